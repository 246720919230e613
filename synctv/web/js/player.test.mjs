import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';

import { sourceKind, stripPngPrefix } from './player.js';

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32 ? zlib.crc32(body) : 0);
  return Buffer.concat([len, body, crc]);
}

test('the PNG prefix of a disguised segment is stripped, TS bytes kept whole', () => {
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x68, 0, 0, 0, 0x82, 0, 0x81])), chunk('IEND', Buffer.alloc(0))]);
  const ts = Buffer.alloc(188 * 2, 0xff);
  ts[0] = 0x47;
  ts[188] = 0x47;
  const both = Buffer.concat([png, ts]);
  const out = Buffer.from(stripPngPrefix(both.buffer.slice(both.byteOffset, both.byteOffset + both.length)));
  assert.deepEqual(out, ts);
  // not a PNG: unchanged
  const plain = ts.buffer.slice(ts.byteOffset, ts.byteOffset + ts.length);
  assert.equal(stripPngPrefix(plain), plain);
});

test('live sources of the server are HLS, with FLV as the alternative', () => {
  assert.equal(sourceKind({ url: '/api/room/movie/live/hls/list/x.m3u8?roomId=r', type: 'm3u8' }), 'hls');
  assert.equal(sourceKind({ url: '/api/room/movie/live/flv/x.flv', type: 'flv' }), 'flv');
});
