import assert from 'node:assert/strict';
import { test } from 'node:test';

import { srtToVtt } from './vendors.js';

test('SubRip becomes WebVTT: header added, comma timestamps, CRLF lines', () => {
  const srt = '1\r\n00:00:01,500 --> 00:00:03,250\r\nhello\r\n';
  assert.equal(srtToVtt(srt), 'WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.250\nhello\n');
});

test('WebVTT passes through unchanged', () => {
  const vtt = 'WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n';
  assert.equal(srtToVtt(vtt), vtt);
});
