// Unit tests of the hand-written protobuf codec (node --test).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { MessageType, MessageTypeName, decodeMessage, encodeMessage } from './proto.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (s) => new Uint8Array(Buffer.from(s, 'hex'));

// One representative message per type, plus edge cases.
const CASES = [
  { type: MessageType.ERROR, errorMessage: 'set status error: no permission' },
  { type: MessageType.CHAT, timestamp: 1735689600123, sender: { userId: 'a'.repeat(32), username: 'alice' }, chatContent: 'hi &lt;b&gt; ünïcødé 🎬' },
  { type: MessageType.STATUS, timestamp: 1735689600000, sender: { userId: 'b'.repeat(32), username: 'bob' }, playbackStatus: { isPlaying: true, currentTime: 12.345678, playbackRate: 1.25 } },
  { type: MessageType.STATUS, playbackStatus: { isPlaying: false, currentTime: 0, playbackRate: 1 } },
  { type: MessageType.CHECK_STATUS, timestamp: 1, playbackStatus: { isPlaying: true, currentTime: 3600.5, playbackRate: 0.5 } },
  { type: MessageType.EXPIRED, expirationId: 3735928559 },
  { type: MessageType.EXPIRED, expirationId: 1735689600123456789n },
  { type: MessageType.CURRENT, sender: { userId: 'c'.repeat(32), username: 'carol' } },
  { type: MessageType.MOVIES, sender: { userId: 'c'.repeat(32), username: '' } },
  { type: MessageType.VIEWER_COUNT, viewerCount: 0 },
  { type: MessageType.VIEWER_COUNT, viewerCount: 42 },
  { type: MessageType.SYNC },
  { type: MessageType.SYNC, timestamp: 1735689600999, playbackStatus: { isPlaying: true, currentTime: 1e-3, playbackRate: 2 } },
  { type: MessageType.MY_STATUS, sender: { userId: 'd'.repeat(32), username: 'dave' } },
  { type: MessageType.WEBRTC_OFFER, webrtcData: { data: '{"type":"offer","sdp":"v=0"}', to: 'u:c', from: '' } },
  { type: MessageType.WEBRTC_ANSWER, webrtcData: { data: '{"type":"answer"}', to: 'x:y', from: 'u:c' } },
  { type: MessageType.WEBRTC_ICE_CANDIDATE, webrtcData: { data: '{"candidate":""}', to: 'x:y', from: 'u:c' } },
  { type: MessageType.WEBRTC_JOIN, sender: { userId: 'e'.repeat(32), username: 'eve' }, webrtcData: { data: '', to: '', from: 'e:1' } },
  { type: MessageType.WEBRTC_LEAVE },
  { type: MessageType.UNKNOWN },
  { type: MessageType.STATUS, timestamp: -5, playbackStatus: { isPlaying: true, currentTime: -1.5, playbackRate: 1 } },
];

function normalise(msg) {
  // expected decode result: defaults filled in
  const out = { type: msg.type, timestamp: Number(msg.timestamp ?? 0) };
  if (msg.sender) out.sender = { userId: '', username: '', ...msg.sender };
  for (const k of ['errorMessage', 'chatContent', 'expirationId', 'viewerCount']) if (k in msg) out[k] = msg[k];
  if (msg.playbackStatus) out.playbackStatus = { isPlaying: false, currentTime: 0, playbackRate: 0, ...msg.playbackStatus };
  if (msg.webrtcData) out.webrtcData = { data: '', to: '', from: '', ...msg.webrtcData };
  return out;
}

test('every message type has a name and round-trips', () => {
  const seen = new Set();
  for (const msg of CASES) {
    const bytes = encodeMessage(msg);
    assert.ok(bytes instanceof Uint8Array);
    const back = decodeMessage(bytes);
    assert.deepEqual(back, normalise(msg), `round trip of ${MessageTypeName[msg.type]}`);
    seen.add(msg.type);
  }
  for (const t of Object.values(MessageType)) assert.ok(seen.has(t), `case for ${MessageTypeName[t]}`);
});

test('known byte layout (sfixed64 timestamp, fixed64 expiration id, doubles)', () => {
  // type=STATUS(3), timestamp=1 (sfixed64), status{is_playing, current_time=1.5, rate=1}
  const bytes = encodeMessage({ type: 3, timestamp: 1, playbackStatus: { isPlaying: true, currentTime: 1.5, playbackRate: 1 } });
  assert.equal(hex(bytes), '0803' + '110100000000000000' + '3214' + '0801' + '11000000000000f83f' + '19000000000000f03f');
  assert.equal(hex(encodeMessage({ type: 5, expirationId: 1 })), '0805' + '390100000000000000');
  assert.equal(hex(encodeMessage({ type: 8, viewerCount: 0 })), '0808' + '4000');
  assert.equal(hex(encodeMessage({ type: 9 })), '0809');
  assert.equal(hex(encodeMessage({})), '');
});

test('negative timestamp and large ids are exact', () => {
  const m = decodeMessage(encodeMessage({ type: 3, timestamp: -1 }));
  assert.equal(m.timestamp, -1);
  const big = 18446744073709551615n;
  assert.equal(decodeMessage(encodeMessage({ type: 5, expirationId: big })).expirationId, big);
  assert.equal(decodeMessage(encodeMessage({ type: 5, expirationId: 2 ** 53 - 1 })).expirationId, 2 ** 53 - 1);
});

test('string type names are accepted by the encoder', () => {
  assert.equal(decodeMessage(encodeMessage({ type: 'CHAT', chatContent: 'x' })).type, MessageType.CHAT);
});

test('unknown fields are skipped and the last oneof member wins', () => {
  // field 15 varint, field 14 length-delimited, field 13 fixed32, then chat, then viewer_count
  const extra = '7801' + '7203616263' + '6d01020304';
  const chat = hex(encodeMessage({ type: 2, chatContent: 'yo' })).slice(4);
  const bytes = fromHex('0802' + extra + chat + '4007');
  const m = decodeMessage(bytes);
  assert.equal(m.type, 2);
  assert.equal(m.viewerCount, 7);
  assert.equal(m.chatContent, undefined);
});

test('truncated input throws', () => {
  const bytes = encodeMessage({ type: 2, chatContent: 'hello' });
  assert.throws(() => decodeMessage(bytes.subarray(0, bytes.length - 2)), RangeError);
  assert.throws(() => decodeMessage(fromHex('11ff')), RangeError);
});

test('accepts ArrayBuffer input', () => {
  const bytes = encodeMessage({ type: 8, viewerCount: 3 });
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  assert.equal(decodeMessage(ab).viewerCount, 3);
});

// --- cross-check with the Python protobuf implementation of proto/message.proto ---

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

function findPython() {
  const candidates = [process.env.SYNCTV_PYTHON, resolve(repoRoot, '.venv/bin/python'), 'python3'].filter(Boolean);
  for (const py of candidates) {
    if (py.includes('/') && !existsSync(py)) continue;
    try {
      execFileSync(py, ['-c', 'import synctv._generated.message_pb2'], { cwd: repoRoot, stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return null;
}

const PY_SCRIPT = `
import json, sys
from google.protobuf import json_format
from synctv._generated import message_pb2
req = json.load(sys.stdin)
out = {"encoded": [], "reencoded": []}
for d in req["dicts"]:
    m = json_format.ParseDict(d, message_pb2.Message())
    out["encoded"].append(m.SerializeToString(deterministic=True).hex())
for h in req["js"]:
    m = message_pb2.Message()
    m.ParseFromString(bytes.fromhex(h))
    out["reencoded"].append(m.SerializeToString(deterministic=True).hex())
print(json.dumps(out))
`;

function toProtoDict(msg) {
  // proto field names; 64-bit integers as strings (protobuf JSON mapping)
  const d = {};
  if (msg.type) d.type = msg.type;
  if (msg.timestamp) d.timestamp = String(msg.timestamp);
  if (msg.sender) d.sender = { user_id: msg.sender.userId || '', username: msg.sender.username || '' };
  if ('errorMessage' in msg) d.error_message = msg.errorMessage;
  if ('chatContent' in msg) d.chat_content = msg.chatContent;
  if (msg.playbackStatus) {
    d.playback_status = {
      is_playing: msg.playbackStatus.isPlaying,
      current_time: msg.playbackStatus.currentTime,
      playback_rate: msg.playbackStatus.playbackRate,
    };
  }
  if ('expirationId' in msg) d.expiration_id = String(msg.expirationId);
  if ('viewerCount' in msg) d.viewer_count = String(msg.viewerCount);
  if (msg.webrtcData) d.webrtc_data = { data: msg.webrtcData.data, to: msg.webrtcData.to, from: msg.webrtcData.from };
  return d;
}

const python = findPython();

test('frames are byte-identical to the Python protobuf encoding', { skip: python ? false : 'python with synctv._generated not found' }, () => {
  const js = CASES.map((m) => hex(encodeMessage(m)));
  const stdout = execFileSync(python, ['-c', PY_SCRIPT], {
    cwd: repoRoot,
    input: JSON.stringify({ dicts: CASES.map(toProtoDict), js }),
    encoding: 'utf8',
  });
  const { encoded, reencoded } = JSON.parse(stdout);
  CASES.forEach((msg, i) => {
    const name = MessageTypeName[msg.type];
    assert.equal(js[i], encoded[i], `JS encoding of case ${i} (${name}) equals Python's`);
    assert.equal(reencoded[i], js[i], `Python parses case ${i} (${name}) and re-encodes it unchanged`);
    assert.deepEqual(decodeMessage(fromHex(encoded[i])), normalise(msg), `JS decodes Python's case ${i} (${name})`);
  });
});
