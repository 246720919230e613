import assert from 'node:assert/strict';
import { test } from 'node:test';

import { flvSource, liveFormat, offersLiveChoice, setLiveFormat } from './flvplayer.js';
import { sourceKind } from './player.js';

function memoryStorage() {
  const data = new Map();
  return { getItem: (k) => (data.has(k) ? data.get(k) : null), setItem: (k, v) => data.set(k, String(v)) };
}

const live = {
  url: '/api/room/movie/live/hls/list/m1.m3u8?token=t', type: 'm3u8', live: true,
  moreSources: [{ name: 'flv', type: 'flv', url: '/api/room/movie/live/flv/m1.flv?token=t' }],
};

test('a live movie with an FLV alternative offers the choice and gives the FLV URL', () => {
  assert.equal(flvSource(live, sourceKind), '/api/room/movie/live/flv/m1.flv?token=t');
  assert.equal(offersLiveChoice(live, sourceKind), true);
});

test('an FLV file is its own FLV source; other movies have none and offer no choice', () => {
  const file = { url: 'https://media.example/clip.flv', type: 'flv' };
  assert.equal(flvSource(file, sourceKind), file.url);
  assert.equal(offersLiveChoice(file, sourceKind), false);
  const mp4 = { url: 'https://media.example/clip.mp4', type: 'mp4', live: false };
  assert.equal(flvSource(mp4, sourceKind), '');
  assert.equal(offersLiveChoice({ ...live, live: false }, sourceKind), false);
  assert.equal(offersLiveChoice({ url: '/x.m3u8', type: 'm3u8', live: true }, sourceKind), false);
});

test('the live format defaults to FLV, keeps a valid choice and ignores anything else', () => {
  const storage = memoryStorage();
  assert.equal(liveFormat(storage), 'flv');
  setLiveFormat('hls', storage);
  assert.equal(liveFormat(storage), 'hls');
  setLiveFormat('rtmp', storage);
  assert.equal(liveFormat(storage), 'hls');
  storage.setItem('synctv.liveFormat', 'junk');
  assert.equal(liveFormat(storage), 'flv');
  const blocked = { getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('blocked'); } };
  assert.equal(liveFormat(blocked), 'flv');
  setLiveFormat('hls', blocked); // does not throw
});
