// Unit tests of the DOM-free helpers (node --test).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  deviceName, extOf, formatTime, nameFromUrl, parseHeaders, permissionFlags, permissionsFromFlags, unescapeHtml,
} from './util.js';

test('unescapeHtml reverses the server chat escaping', () => {
  assert.equal(unescapeHtml('hi &lt;b&gt; &amp;amp; &#39;x&#39; &#34;y&#34;'), `hi <b> &amp; 'x' "y"`);
  assert.equal(unescapeHtml('&lt;script&gt;alert(1)&lt;/script&gt;'), '<script>alert(1)</script>');
  assert.equal(unescapeHtml('&quot;&apos;&#x27;&#x22;'), `"''"`);
  assert.equal(unescapeHtml('&unknown; & plain'), '&unknown; & plain');
  assert.equal(unescapeHtml(undefined), '');
});

test('permission bits <-> checkbox flags', () => {
  assert.deepEqual(permissionFlags(193), [true, false, false, false, false, false, true, true]);
  assert.equal(permissionsFromFlags(permissionFlags(193)), 193);
  assert.equal(permissionsFromFlags([true, true, true, true, true, true, true, true]), 255);
  assert.equal(permissionsFromFlags(permissionFlags(0xffffffff), 0xffffffff), 0xffffffff, 'unknown high bits are kept');
  assert.equal(permissionsFromFlags([false, false, false, false, false, true, false, false], 0xffffffff), 0xffffff20);
});

test('formatTime and nameFromUrl', () => {
  assert.equal(formatTime(75.4), '1:15');
  assert.equal(formatTime(3725), '1:02:05');
  assert.equal(formatTime(NaN), '0:00');
  assert.equal(nameFromUrl('https://cdn.example/videos/My%20Film.mp4?x=1'), 'My Film.mp4');
  assert.equal(nameFromUrl('https://cdn.example/'), 'cdn.example');
  assert.equal(extOf('https://cdn.example/a/b.M3U8?token=1'), 'm3u8');
  assert.equal(extOf('/api/room/movie/proxy/abc'), '');
});

test('parseHeaders', () => {
  assert.deepEqual(parseHeaders('Referer: https://a.example/x\n\nX-Key:  k:v \nbroken\n: nameless'), {
    Referer: 'https://a.example/x',
    'X-Key': 'k:v',
  });
  assert.deepEqual(parseHeaders(''), {});
});

import { HIDDEN_GROUPS, READ_ONLY, describe, groupLabel } from './settings_catalog.js';

test('site settings have labels, units and read-only values; RTMP is hidden until the server serves it', () => {
  assert.equal(describe('room_ttl').unit, 'hours');
  assert.equal(describe('oauth2_github_client_id').label, 'Client ID');
  assert.equal(describe('something_new').label, 'something new');
  assert.ok(READ_ONLY.has('version') && READ_ONLY.has('database_version'));
  assert.ok(HIDDEN_GROUPS.has('rtmp'));
  assert.equal(groupLabel('oauth2_gitee'), 'Log in with gitee');
});

test('deviceName: browser and system from a User-Agent', () => {
  assert.equal(deviceName('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'), 'Chrome · Linux');
  assert.equal(deviceName('Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0'), 'Firefox · Android');
  assert.equal(deviceName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1'), 'Safari · iPhone');
  assert.equal(deviceName('Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0'), 'Edge · Windows');
  assert.equal(deviceName('Python/3.13 aiohttp/3.10'), 'Python/3.13 aiohttp/3.10');
  assert.equal(deviceName(''), '');
  assert.equal(deviceName(undefined), '');
});
