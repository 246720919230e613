import test from 'node:test';
import assert from 'node:assert/strict';

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { hasKey, missingKeys, setLanguage, t } from './i18n.js';
import { GROUPS, SETTINGS, describe } from './settings_catalog.js';
import { MEMBER_PERMISSIONS, MEMBER_ROLE, ROOM_STATUS, USER_ROLE } from './util.js';

test('every language has every key', () => {
  assert.deepEqual(missingKeys(), []);
});

test('placeholders are filled and unknown keys fall back', () => {
  setLanguage('en');
  assert.match(t('room.notFound.body', { id: 'abc' }), /no room abc/);
  setLanguage('zh');
  assert.match(t('room.notFound.body', { id: 'abc' }), /abc/);
  assert.equal(t('no.such.key'), 'no.such.key');
  setLanguage('xx');
  assert.match(t('room.share.copy'), /复制/, 'an unknown language keeps the current one');
  setLanguage('en');
});

// ---------------------------------------------------------------- the client's strings all go through t()

const here = dirname(fileURLToPath(import.meta.url));
const sources = readdirSync(here).filter((f) => f.endsWith('.js')).map((f) => [f, readFileSync(join(here, f), 'utf8')]);
const html = readFileSync(join(here, '..', 'index.html'), 'utf8');

/** Lines of `src` (without comments) that match `re`, as "file:line: text". */
function findings(re) {
  const out = [];
  for (const [file, src] of sources) {
    src.split('\n').forEach((line, i) => {
      const code = line.replace(/^\s*(\/\/|\*|\/\*\*).*$/, '');
      if (re.test(code)) out.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

test('every key the client asks for exists, in English and Chinese', () => {
  const used = new Set();
  for (const [, src] of sources) for (const m of src.matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]);
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([\w.]+)"/g)) used.add(m[1]);
  // keys built at run time, family by family
  for (const p of MEMBER_PERMISSIONS) used.add(`perm.${p.key}`);
  for (const r of Object.values(MEMBER_ROLE)) used.add(`members.role.${r}`);
  for (const r of Object.values(USER_ROLE)) used.add(`user.role.${r}`);
  for (const s of Object.values(ROOM_STATUS)) if (s) used.add(`room.status.${s}`);
  for (const s of ['idle', 'connecting', 'open', 'closed', 'stopped']) used.add(`socket.${s}`);
  for (const m of [0, 1, 2, 3, 4]) used.add(`settings.playMode.${m}`);
  for (const g of GROUPS) used.add(`site.group.${g}`);
  for (const [name, d] of Object.entries(SETTINGS)) {
    used.add(`site.${name}`);
    if (d.help) used.add(`site.${name}.help`);
    if (d.unit) used.add(`unit.${d.unit}`);
  }
  for (const f of ['enabled', 'client_id', 'client_secret', 'redirect_url', 'disable_user_signup', 'signup_need_review',
    'endpoint', 'issuer', 'scopes']) used.add(`site.oauth2.${f}`);
  assert.ok(used.size > 150, `${used.size} keys found: the scan is broken`);
  const missing = [...used].filter((k) => !hasKey(k));
  assert.deepEqual(missing, [], 'keys without strings');
  assert.deepEqual(missingKeys(), [], 'keys without a Chinese string');
});

test('no user-facing sentence is written inline in the client', () => {
  // a toast, a confirmation, an error, a text, a placeholder or a title given as an English literal
  const inline = findings(/(toast|confirm|new Error)\(\s*['"`][A-Za-z]|\.(textContent|placeholder|title)\s*=\s*['"`][A-Za-z]/)
    .filter((f) => !f.endsWith("document.title = 'SyncTV';")); // the product's name
  // the last (text) argument of an element built with h(): `}, 'Some text')`
  const children = findings(/\}\s*,\s*['"`][A-Z][a-z]+[ '"`]/);
  assert.deepEqual([...inline, ...children], []);
});

test('site settings speak the reader\'s language', () => {
  setLanguage('zh');
  assert.equal(describe('room_ttl').label, '闲置房间关闭时间');
  assert.equal(describe('room_ttl').unit, '小时');
  assert.equal(describe('oauth2_github_enabled').label, '启用');
  setLanguage('en');
  assert.equal(describe('chat_history_days').help, '0 = no age limit');
});

test('the page\'s own text is marked for translation', () => {
  // every text of index.html outside <script>, <title> and <noscript> sits in an element marked data-i18n, except
  // names and formats that read the same in every language and texts the client replaces as it starts
  const same = new Set(['SyncTV', 'MP4', 'WebM', 'HLS (m3u8)', 'Name: value', 'none', 'idle', 'Room', 'Nothing is playing',
    'Click to enable sound']);
  const body = html.replace(/<(script|title|noscript)[\s\S]*?<\/\1>/g, '');
  const unmarked = [];
  const re = /<([a-z0-9]+)([^>]*)>([^<]*[A-Za-z][^<]*)</g;
  for (const m of body.matchAll(re)) {
    const text = m[3].trim().replace(/\s+/g, ' ');
    if (!m[2].includes('data-i18n=') && !same.has(text)) unmarked.push(`<${m[1]}${m[2]}>${text}`);
  }
  assert.deepEqual(unmarked, []);
  for (const [tag] of body.matchAll(/<[a-z][^>]*>/g)) {
    for (const m of tag.matchAll(/\s(placeholder|aria-label|title|alt)="([^"]*[A-Za-z][^"]*)"/g)) {
      if (!/^(https?:|Referer:)/.test(m[2])) assert.ok(tag.includes(`data-i18n-${m[1]}=`), tag);
    }
  }
});
