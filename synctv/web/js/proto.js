// Protobuf codec for the WebSocket `Message` (proto/message.proto), written by hand
// so the client needs no protobuf runtime. One Message per binary WebSocket frame.
//
// JS shape (camelCase, oneof members are plain optional properties):
//   { type, timestamp, sender: {userId, username}, errorMessage, chatContent,
//     playbackStatus: {isPlaying, currentTime, playbackRate}, expirationId,
//     viewerCount, webrtcData: {data, to, from} }
// 64-bit integers decode to Number when they are safe integers and to BigInt otherwise;
// the encoder accepts either.

export const MessageType = Object.freeze({
  UNKNOWN: 0,
  ERROR: 1,
  CHAT: 2,
  STATUS: 3,
  CHECK_STATUS: 4,
  EXPIRED: 5,
  CURRENT: 6,
  MOVIES: 7,
  VIEWER_COUNT: 8,
  SYNC: 9,
  MY_STATUS: 10,
  WEBRTC_OFFER: 11,
  WEBRTC_ANSWER: 12,
  WEBRTC_ICE_CANDIDATE: 13,
  WEBRTC_JOIN: 14,
  WEBRTC_LEAVE: 15,
});

export const MessageTypeName = Object.freeze(
  Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])),
);

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

const U64_MASK = (1n << 64n) - 1n;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8');

function toBigInt(value) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`not an integer: ${value}`);
  return BigInt(Math.trunc(n));
}

/** BigInt -> Number when exactly representable, else the BigInt itself. */
export function bigToSafe(big) {
  if (big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(big);
  return big;
}

class Writer {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }

  push(bytes) {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  varint(value) {
    let v = toBigInt(value) & U64_MASK; // negative numbers: 64-bit two's complement (10 bytes)
    const out = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  tag(field, wireType) {
    this.varint((field << 3) | wireType);
  }

  fixed64(value) {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setBigUint64(0, toBigInt(value) & U64_MASK, true);
    this.push(buf);
  }

  double(value) {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setFloat64(0, Number(value), true);
    this.push(buf);
  }

  bytes(bytes) {
    this.varint(bytes.length);
    this.push(bytes);
  }

  string(value) {
    this.bytes(textEncoder.encode(String(value)));
  }

  finish() {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

class Reader {
  constructor(bytes) {
    this.buf = bytes;
    this.pos = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  eof() {
    return this.pos >= this.buf.length;
  }

  varint() {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result & U64_MASK;
      shift += 7n;
    }
    throw new RangeError('varint too long');
  }

  need(n) {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated message');
  }

  fixed64() {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  double() {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes() {
    const len = Number(this.varint());
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string() {
    return textDecoder.decode(this.bytes());
  }

  skip(wireType) {
    switch (wireType) {
      case WT_VARINT:
        this.varint();
        break;
      case WT_I64:
        this.need(8);
        this.pos += 8;
        break;
      case WT_LEN:
        this.bytes();
        break;
      case WT_I32:
        this.need(4);
        this.pos += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }
}

const present = (v) => v !== undefined && v !== null;

function encodeSender(sender) {
  const w = new Writer();
  if (sender.userId) {
    w.tag(1, WT_LEN);
    w.string(sender.userId);
  }
  if (sender.username) {
    w.tag(2, WT_LEN);
    w.string(sender.username);
  }
  return w.finish();
}

function encodeStatus(status) {
  const w = new Writer();
  if (status.isPlaying) {
    w.tag(1, WT_VARINT);
    w.varint(1);
  }
  if (status.currentTime) {
    w.tag(2, WT_I64);
    w.double(status.currentTime);
  }
  if (status.playbackRate) {
    w.tag(3, WT_I64);
    w.double(status.playbackRate);
  }
  return w.finish();
}

function encodeWebRTC(data) {
  const w = new Writer();
  if (data.data) {
    w.tag(1, WT_LEN);
    w.string(data.data);
  }
  if (data.to) {
    w.tag(2, WT_LEN);
    w.string(data.to);
  }
  if (data.from) {
    w.tag(3, WT_LEN);
    w.string(data.from);
  }
  return w.finish();
}

/** Encode a Message object to protobuf bytes (fields in field-number order, like the reference encoders). */
export function encodeMessage(msg) {
  const w = new Writer();
  const type = typeof msg.type === 'string' ? MessageType[msg.type] : msg.type;
  if (type) {
    w.tag(1, WT_VARINT);
    w.varint(type);
  }
  if (present(msg.timestamp) && toBigInt(msg.timestamp) !== 0n) {
    w.tag(2, WT_I64);
    w.fixed64(msg.timestamp); // sfixed64: same bytes as the two's complement fixed64
  }
  if (present(msg.sender)) {
    w.tag(3, WT_LEN);
    w.bytes(encodeSender(msg.sender));
  }
  // oneof payload: a set member is always written, even with its default value
  if (present(msg.errorMessage)) {
    w.tag(4, WT_LEN);
    w.string(msg.errorMessage);
  } else if (present(msg.chatContent)) {
    w.tag(5, WT_LEN);
    w.string(msg.chatContent);
  } else if (present(msg.playbackStatus)) {
    w.tag(6, WT_LEN);
    w.bytes(encodeStatus(msg.playbackStatus));
  } else if (present(msg.expirationId)) {
    w.tag(7, WT_I64);
    w.fixed64(msg.expirationId);
  } else if (present(msg.viewerCount)) {
    w.tag(8, WT_VARINT);
    w.varint(msg.viewerCount);
  } else if (present(msg.webrtcData)) {
    w.tag(9, WT_LEN);
    w.bytes(encodeWebRTC(msg.webrtcData));
  }
  return w.finish();
}

function decodeSender(bytes) {
  const r = new Reader(bytes);
  const out = { userId: '', username: '' };
  while (!r.eof()) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wt = key & 7;
    if (field === 1 && wt === WT_LEN) out.userId = r.string();
    else if (field === 2 && wt === WT_LEN) out.username = r.string();
    else r.skip(wt);
  }
  return out;
}

function decodeStatus(bytes) {
  const r = new Reader(bytes);
  const out = { isPlaying: false, currentTime: 0, playbackRate: 0 };
  while (!r.eof()) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wt = key & 7;
    if (field === 1 && wt === WT_VARINT) out.isPlaying = r.varint() !== 0n;
    else if (field === 2 && wt === WT_I64) out.currentTime = r.double();
    else if (field === 3 && wt === WT_I64) out.playbackRate = r.double();
    else r.skip(wt);
  }
  return out;
}

function decodeWebRTC(bytes) {
  const r = new Reader(bytes);
  const out = { data: '', to: '', from: '' };
  while (!r.eof()) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wt = key & 7;
    if (field === 1 && wt === WT_LEN) out.data = r.string();
    else if (field === 2 && wt === WT_LEN) out.to = r.string();
    else if (field === 3 && wt === WT_LEN) out.from = r.string();
    else r.skip(wt);
  }
  return out;
}

const ONEOF_KEYS = ['errorMessage', 'chatContent', 'playbackStatus', 'expirationId', 'viewerCount', 'webrtcData'];

/** Decode protobuf bytes (Uint8Array or ArrayBuffer) to a Message object. Unknown fields are skipped. */
export function decodeMessage(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const r = new Reader(bytes);
  const msg = { type: 0, timestamp: 0 };
  const setOneof = (key, value) => {
    for (const k of ONEOF_KEYS) delete msg[k];
    msg[key] = value;
  };
  while (!r.eof()) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wt = key & 7;
    switch (field) {
      case 1:
        if (wt !== WT_VARINT) break;
        msg.type = Number(BigInt.asIntN(32, r.varint()));
        continue;
      case 2:
        if (wt !== WT_I64) break;
        msg.timestamp = bigToSafe(BigInt.asIntN(64, r.fixed64()));
        continue;
      case 3:
        if (wt !== WT_LEN) break;
        msg.sender = decodeSender(r.bytes());
        continue;
      case 4:
        if (wt !== WT_LEN) break;
        setOneof('errorMessage', r.string());
        continue;
      case 5:
        if (wt !== WT_LEN) break;
        setOneof('chatContent', r.string());
        continue;
      case 6:
        if (wt !== WT_LEN) break;
        setOneof('playbackStatus', decodeStatus(r.bytes()));
        continue;
      case 7:
        if (wt !== WT_I64) break;
        setOneof('expirationId', bigToSafe(r.fixed64()));
        continue;
      case 8:
        if (wt !== WT_VARINT) break;
        setOneof('viewerCount', bigToSafe(BigInt.asIntN(64, r.varint())));
        continue;
      case 9:
        if (wt !== WT_LEN) break;
        setOneof('webrtcData', decodeWebRTC(r.bytes()));
        continue;
      default:
        break;
    }
    r.skip(wt);
  }
  return msg;
}
