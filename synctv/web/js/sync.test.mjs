// Unit tests of the sync engine (node --test): clock estimation, timeline math, correction
// decisions, back-off, and the controller's echo suppression against a fake <video>.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MessageType } from './proto.js';
import {
  ClockSync,
  SYNC,
  SyncController,
  backoffDelay,
  bestClockEstimate,
  boundedClockEstimate,
  decideCorrection,
  expectedPosition,
  makeState,
  nudgedRate,
  stateFromCurrent,
} from './sync.js';

const near = (a, b, eps = 1e-9, msg) => assert.ok(Math.abs(a - b) <= eps, msg || `${a} ≉ ${b}`);

// ------------------------------------------------------------------ clock

test('bestClockEstimate keeps the smallest round trip', () => {
  const est = bestClockEstimate([
    { t0: 1000, t1: 1200, serverTime: 6000 }, // rtt 200
    { t0: 2000, t1: 2010, serverTime: 7005 + 500 }, // rtt 10 -> offset 7505 - 2005 = 5500
    { t0: 3000, t1: 3100, serverTime: 8050 },
    { t0: 5, t1: 1, serverTime: 0 }, // negative rtt: ignored
    { t0: 1, t1: 2, serverTime: NaN }, // invalid
  ]);
  assert.deepEqual(est, { rtt: 10, offset: 5500 });
  assert.equal(bestClockEstimate([]), null);
});

test('boundedClockEstimate intersects the samples\' bounds, newest first', () => {
  // offset 1000; sample A: fast request (10) and slow response (90); B: slow request (90), fast response (10)
  const a = { t0: 0, t1: 100, serverTime: 1010 };
  const b = { t0: 200, t1: 300, serverTime: 1290 };
  const est = boundedClockEstimate([a, b], 0);
  // A bounds [910, 1010], B bounds [990, 1090]: the intersection [990, 1010], although both round trips are 100
  assert.deepEqual(est, { offset: 1000, error: 10, rtt: 100, used: 2 });
  near(bestClockEstimate([a, b]).offset, 960, 1e-9, 'the min-RTT choice is 40 ms off here');
  // an older sample from before a local clock step contradicts the newer ones and ends the run
  const stepped = { t0: -500, t1: -400, serverTime: 100 };
  assert.equal(boundedClockEstimate([stepped, a, b], 0).used, 2);
  near(boundedClockEstimate([stepped, a, b], 0).offset, 1000, 1e-9);
  // whole-ms server times widen the upper bound by the resolution
  near(boundedClockEstimate([a, b], 1).offset, 1000.5, 1e-9);
  assert.equal(boundedClockEstimate([{ t0: 5, t1: 1, serverTime: 0 }, null]), null);
});

test('on a 100 ± 50 ms path each way the bounded estimate is within a few ms, min-RTT is not', () => {
  // a deterministic pseudo-random path: uniform delays in [50, 150] ms in each direction
  let seed = 18;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const trueOffset = 4242;
  let worstBounded = 0;
  let worstMinRtt = 0;
  for (let trial = 0; trial < 50; trial++) {
    const samples = [];
    let local = 0;
    for (let i = 0; i < 24; i++) {
      const up = 50 + 100 * rnd();
      const down = 50 + 100 * rnd();
      samples.push({ t0: local, t1: local + up + down, serverTime: local + up + trueOffset });
      local += up + down + 5;
    }
    worstBounded = Math.max(worstBounded, Math.abs(boundedClockEstimate(samples, 0).offset - trueOffset));
    worstMinRtt = Math.max(worstMinRtt, Math.abs(bestClockEstimate(samples).offset - trueOffset));
  }
  assert.ok(worstBounded < 8, `bounded estimate off by ${worstBounded} ms`);
  assert.ok(worstMinRtt > 2 * worstBounded, `min-RTT ${worstMinRtt} ms vs bounded ${worstBounded} ms`);
});

test('ClockSync estimates the offset from simulated asymmetric-free samples', async () => {
  let local = 1_000_000;
  const trueOffset = 123_456;
  const delays = [80, 12, 40, 300, 25];
  let i = 0;
  const clock = new ClockSync({
    now: () => local,
    resolution: 0,
    samples: 5,
    fetchServerTime: async () => {
      const d = delays[i++ % delays.length];
      local += d / 2;
      const server = local + trueOffset;
      local += d / 2;
      return server;
    },
  });
  const best = await clock.sync();
  assert.equal(best.rtt, 12);
  near(clock.offset, trueOffset, 1e-6);
  near(clock.now(), local + trueOffset, 1e-6);
  assert.equal(clock.synced, true);
});

test('ClockSync skips failed samples and keeps a good estimate over a noisy round', async () => {
  let local = 0;
  let mode = 'good';
  const clock = new ClockSync({
    now: () => local,
    resolution: 0,
    samples: 3,
    refreshMs: 30000,
    fetchServerTime: async () => {
      if (mode === 'fail') throw new Error('down');
      const d = mode === 'good' ? 10 : 1000;
      local += d / 2;
      const s = local + (mode === 'good' ? 500 : 900);
      local += d / 2;
      return s;
    },
  });
  await clock.sync();
  near(clock.offset, 500, 1e-6);
  mode = 'noisy';
  await clock.sync();
  near(clock.offset, 500, 1e-6, 'a much noisier round does not replace a fresh estimate');
  mode = 'fail';
  assert.equal(await clock.sync(), null);
  near(clock.offset, 500, 1e-6);
});

// ------------------------------------------------------------------ timeline math

test('expectedPosition extrapolates only while playing', () => {
  const playing = makeState({ isPlaying: true, currentTime: 10, playbackRate: 1.5 }, 1_000_000);
  near(expectedPosition(playing, 1_002_000), 13);
  near(expectedPosition(playing, 999_000), 10, 1e-9, 'no negative elapsed time');
  const paused = makeState({ isPlaying: false, currentTime: 10, playbackRate: 1.5 }, 1_000_000);
  near(expectedPosition(paused, 1_010_000), 10);
  assert.equal(expectedPosition(null, 5), 0);
});

test('makeState defaults a missing or invalid rate to 1', () => {
  assert.equal(makeState({ isPlaying: true }, 0).playbackRate, 1);
  assert.equal(makeState({ playbackRate: 0 }, 0).playbackRate, 1);
  assert.equal(makeState({ playbackRate: -2 }, 0).playbackRate, 1);
  assert.equal(makeState({ playbackRate: 2 }, 0).playbackRate, 2);
  assert.equal(makeState({}, 0).currentTime, 0);
});

test('stateFromCurrent uses lastUpdate, falling back to the envelope time', () => {
  const cur = { status: { isPlaying: true, currentTime: 5, playbackRate: 1, lastUpdate: '2025-01-01T00:00:00.250Z' } };
  const { state } = stateFromCurrent(cur, 0);
  assert.equal(state.timestamp, Date.parse('2025-01-01T00:00:00.250Z'));
  const nano = stateFromCurrent({ status: { lastUpdate: '2025-01-01T00:00:01.123456789Z' } }, 0).state;
  assert.ok(Math.abs(nano.timestamp - Date.parse('2025-01-01T00:00:01.123Z')) <= 1);
  const empty = stateFromCurrent({ status: { lastUpdate: '0001-01-01T00:00:00Z' } }, 1_700_000_000_000_000);
  assert.equal(empty.state.timestamp, 1_700_000_000_000);
  assert.equal(empty.state.isPlaying, false);
});

test('decideCorrection: nothing / nudge / seek with hysteresis', () => {
  assert.equal(decideCorrection({ diff: 0.01, baseRate: 1 }).action, 'none');
  assert.equal(decideCorrection({ diff: 0.02, baseRate: 1 }).action, 'none', 'below the nudge start');
  const n = decideCorrection({ diff: 0.2, baseRate: 1 });
  assert.equal(n.action, 'rate');
  near(n.rate, 1.1, 1e-12, 'clamped to +10 %');
  near(decideCorrection({ diff: 0.04, baseRate: 1 }).rate, 1.08, 1e-12);
  near(decideCorrection({ diff: -0.045, baseRate: 2 }).rate, 2 * 0.91, 1e-12, 'slows down when ahead, scaled by base');
  assert.equal(decideCorrection({ diff: 0.02, baseRate: 1, correcting: true }).action, 'rate', 'keeps nudging until within 10 ms');
  assert.equal(decideCorrection({ diff: 0.008, baseRate: 1, correcting: true }).action, 'none');
  assert.equal(decideCorrection({ diff: 0.4, baseRate: 1 }).action, 'seek');
  assert.equal(decideCorrection({ diff: -3, baseRate: 1 }).action, 'seek');
  assert.equal(decideCorrection({ diff: -3, baseRate: 1, allowSeek: false }).action, 'rate', 'cooldown: nudge instead');
  near(nudgedRate(1, -5), 0.9, 1e-12);
});

test('backoffDelay grows exponentially and is capped', () => {
  const fixed = { random: () => 1 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, fixed)), [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  const low = backoffDelay(3, { random: () => 0 });
  assert.ok(low >= 3000 && low <= 4000, 'jitter keeps at least 75 %');
});

// ------------------------------------------------------------------ controller

class FakeVideo extends EventTarget {
  constructor() {
    super();
    this._t = 0;
    this.paused = true;
    this.ended = false;
    this.seeking = false;
    this.readyState = 4;
    this.duration = 600;
    this._rate = 1;
    this.autoplayAllowed = true;
    this.calls = [];
  }
  get currentTime() {
    return this._t;
  }
  set currentTime(v) {
    this.calls.push(['seek', v]);
    this._t = v;
    this.emit('seeking');
    this.emit('seeked');
  }
  get playbackRate() {
    return this._rate;
  }
  set playbackRate(v) {
    this.calls.push(['rate', v]);
    this._rate = v;
    this.emit('ratechange');
  }
  play() {
    this.calls.push(['play']);
    if (!this.autoplayAllowed) {
      const e = new Error('blocked');
      e.name = 'NotAllowedError';
      return Promise.reject(e);
    }
    if (this.paused) {
      this.paused = false;
      this.emit('play');
    }
    return Promise.resolve();
  }
  pause() {
    this.calls.push(['pause']);
    if (!this.paused) {
      this.paused = true;
      this.emit('pause');
    }
  }
  emit(type) {
    this.dispatchEvent(new Event(type));
  }
  // user actions (not through the controller)
  userPlay() {
    this.paused = false;
    this.emit('play');
  }
  userPause() {
    this.paused = true;
    this.emit('pause');
  }
  userSeek(t) {
    this._t = t;
    this.emit('seeking');
    this.emit('seeked');
  }
  userRate(r) {
    this._rate = r;
    this.emit('ratechange');
  }
}

function setup({ canControl = true } = {}) {
  const video = new FakeVideo();
  let serverNow = 1_000_000;
  let local = 50_000;
  const sent = [];
  const events = [];
  const clock = { now: () => serverNow };
  const ctl = new SyncController({
    video,
    clock,
    send: (m) => sent.push(m),
    canControl: () => canControl,
    onEvent: (e) => events.push(e),
    localNow: () => local,
  });
  ctl.attach({ autoTick: false });
  ctl.setMovie({ active: true, live: false });
  const advance = (ms, { play = true } = {}) => {
    serverNow += ms;
    local += ms;
    if (play && !video.paused) video._t += (ms / 1000) * video._rate;
  };
  return { video, ctl, sent, events, advance, now: () => serverNow };
}

const flush = () => new Promise((r) => setImmediate(r));

test('applying a playing state plays and seeks to the extrapolated position without echo', async () => {
  const { video, ctl, sent, now } = setup();
  ctl.applyRemote({ isPlaying: true, currentTime: 100, playbackRate: 1 }, now() - 2000, 'STATUS');
  await flush();
  assert.equal(video.paused, false);
  near(video.currentTime, 102, 1e-6);
  assert.deepEqual(sent, [], 'remote changes are not sent back');
  assert.equal(ctl.lastApplied.source, 'STATUS');
});

test('a timestamp of 0 (upstream broadcast STATUS) is applied as "now"', () => {
  const { video, ctl, now } = setup();
  ctl.applyRemote({ isPlaying: false, currentTime: 42, playbackRate: 1 }, 0, 'STATUS');
  assert.equal(ctl.reference.timestamp, now());
  near(video.currentTime, 42, 1e-9);
});

test('small drift is corrected by nudging the rate, large drift by seeking', async () => {
  const { video, ctl, sent, advance, now } = setup();
  ctl.applyRemote({ isPlaying: true, currentTime: 10, playbackRate: 1 }, now(), 'SYNC');
  await flush();
  advance(1000);
  video._t -= 0.1; // 100 ms behind
  ctl.tick();
  near(video.playbackRate, 1.1, 1e-9, 'speeds up');
  advance(700); // catches up 70 ms
  ctl.tick();
  near(video.playbackRate, nudgedRate(1, ctl.target() - video.currentTime), 1e-6, 'proportional nudge');
  assert.ok(video.playbackRate > 1 && video.playbackRate < 1.1);
  for (let i = 0; i < 8; i++) { // the periodic ticks close the rest without overshooting
    advance(SYNC.TICK_MS);
    ctl.tick();
    assert.ok(ctl.target() - video.currentTime > -0.005, 'no overshoot');
  }
  assert.equal(video.playbackRate, 1, 'back to the base rate when within 10 ms');
  assert.ok(Math.abs(ctl.target() - video.currentTime) <= 0.01);
  video._t += 2; // 2 s ahead
  advance(2000, { play: true });
  ctl.tick();
  near(video.currentTime, ctl.target() + Math.min(ctl.seekLatency, SYNC.MAX_SEEK_LEAD), 1e-6);
  assert.deepEqual(sent, [], 'corrections are never sent');
});

test('local play/pause/seek/rate changes are sent as STATUS with the server time', async () => {
  const { video, ctl, sent, advance, now } = setup();
  ctl.applyRemote({ isPlaying: false, currentTime: 30, playbackRate: 1 }, now(), 'current');
  advance(100);
  video.userPlay();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].type, MessageType.STATUS);
  assert.equal(sent[0].timestamp, now());
  assert.deepEqual(sent[0].playbackStatus, { isPlaying: true, currentTime: 30, playbackRate: 1 });
  assert.equal(ctl.reference.isPlaying, true);

  advance(1000);
  video.userPause();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].playbackStatus.isPlaying, false);
  near(sent[1].playbackStatus.currentTime, 31, 1e-9);

  video.userRate(1.5);
  assert.equal(sent.length, 3);
  assert.equal(sent[2].playbackStatus.playbackRate, 1.5);
  assert.equal(ctl.reference.playbackRate, 1.5);

  video.userSeek(200);
  assert.equal(sent.length, 3, 'seeks are debounced');
  await new Promise((r) => setTimeout(r, SYNC.SEEK_SEND_DEBOUNCE_MS + 50));
  assert.equal(sent.length, 4);
  assert.equal(sent[3].playbackStatus.currentTime, 200);
  assert.equal(sent[3].playbackStatus.isPlaying, false);
  ctl.tick();
  assert.equal(video.currentTime, 200, 'the controller follows the local seek instead of undoing it');
  ctl.detach();
});

test('controller-initiated play/pause/seek/rate changes are not echoed', async () => {
  const { video, ctl, sent, now, advance } = setup();
  ctl.applyRemote({ isPlaying: true, currentTime: 5, playbackRate: 2 }, now(), 'STATUS');
  await flush();
  ctl.applyRemote({ isPlaying: false, currentTime: 50, playbackRate: 2 }, now(), 'STATUS');
  advance(300);
  ctl.applyRemote({ isPlaying: true, currentTime: 7, playbackRate: 1 }, now(), 'STATUS');
  await flush();
  assert.deepEqual(sent, []);
  assert.equal(video.paused, false);
  assert.equal(video.playbackRate, 1);
});

test('a play event from our own play() is not echoed even if a pause arrived meanwhile', async () => {
  const { video, ctl, sent, now } = setup();
  // emulate asynchronous media events: queue them
  const queued = [];
  video.emit = (type) => queued.push(type);
  ctl.applyRemote({ isPlaying: true, currentTime: 0, playbackRate: 1 }, now(), 'STATUS'); // -> play()
  ctl.applyRemote({ isPlaying: false, currentTime: 0, playbackRate: 1 }, now(), 'STATUS'); // -> pause()
  for (const t of queued) video.dispatchEvent(new Event(t));
  await flush();
  assert.deepEqual(sent, []);
});

test('without permission local changes are not sent and the room state is restored', async () => {
  const { video, ctl, sent, events, now } = setup({ canControl: false });
  ctl.applyRemote({ isPlaying: true, currentTime: 10, playbackRate: 1 }, now(), 'STATUS');
  await flush();
  video.userPause();
  assert.deepEqual(sent, []);
  assert.ok(events.some((e) => e.type === 'denied'));
  ctl.tick();
  await flush();
  assert.equal(video.paused, false, 'playback resumes');
});

test('a refused change is undone at once, without waiting for the next tick', async () => {
  const { video, ctl, sent, now } = setup({ canControl: false });
  ctl.applyRemote({ isPlaying: true, currentTime: 10, playbackRate: 1 }, now(), 'STATUS');
  await flush();
  video.userPause();
  assert.equal(video.paused, false, 'a refused pause resumes immediately');
  video.userRate(2);
  assert.equal(video.playbackRate, 1, 'a refused rate change is reverted immediately');
  // a real element is still seeking when the seeking event fires: the seek back waits for seeked
  video.seeking = true;
  video._t = 100;
  video.emit('seeking');
  assert.equal(video.currentTime, 100);
  video.seeking = false;
  video.emit('seeked');
  near(video.currentTime, ctl.target(), 1e-6, 'a refused seek is undone once the element has seeked');
  assert.deepEqual(sent, []);
});

test('small player nudges (e.g. hls.js gap skipping) are not treated as user seeks', () => {
  const { video, ctl, sent, now } = setup();
  ctl.applyRemote({ isPlaying: false, currentTime: 10, playbackRate: 1 }, now(), 'STATUS');
  video.userSeek(10.3);
  assert.equal(ctl.seekSendTimer, null);
  assert.deepEqual(sent, []);
});

test('the natural end of the media is not sent as a pause and does not restart playback', async () => {
  const { video, ctl, sent, advance, now } = setup();
  ctl.applyRemote({ isPlaying: true, currentTime: 599, playbackRate: 1 }, now(), 'STATUS');
  await flush();
  advance(2000);
  video._t = 600;
  video.ended = true;
  video.paused = true;
  video.emit('pause');
  video.calls.length = 0;
  ctl.tick();
  assert.deepEqual(sent, []);
  assert.ok(!video.calls.some((c) => c[0] === 'play'), 'no play() at the end');
});

test('blocked autoplay is reported once and retried after a gesture', async () => {
  const { video, ctl, events, now } = setup();
  video.autoplayAllowed = false;
  ctl.applyRemote({ isPlaying: true, currentTime: 0, playbackRate: 1 }, now(), 'STATUS');
  await flush();
  assert.ok(events.some((e) => e.type === 'autoplay-blocked'));
  const plays = video.calls.filter((c) => c[0] === 'play').length;
  ctl.tick();
  await flush();
  assert.equal(video.calls.filter((c) => c[0] === 'play').length, plays, 'no retry loop while blocked');
  video.autoplayAllowed = true;
  ctl.resumeAfterGesture();
  await flush();
  assert.equal(video.paused, false);
});

test('CHECK_STATUS carries the reference play state and base rate, with upstream skip rules', () => {
  const { video, ctl, advance, now } = setup();
  assert.equal(ctl.checkStatusMessage(), null, 'nothing before a state');
  ctl.applyRemote({ isPlaying: true, currentTime: 10, playbackRate: 1.25 }, now(), 'STATUS');
  ctl.setRate(1.3); // a nudge in progress must not leak into the check
  const m = ctl.checkStatusMessage();
  assert.equal(m.type, MessageType.CHECK_STATUS);
  assert.equal(m.timestamp, now());
  assert.deepEqual(m.playbackStatus, { isPlaying: true, currentTime: video.currentTime, playbackRate: 1.25 });

  video.userSeek(100);
  assert.equal(ctl.checkStatusMessage(), null, 'skipped within 10 s of a local seek');
  advance(SYNC.CHECK_AFTER_SEEK_MS + 1, { play: false });
  assert.notEqual(ctl.checkStatusMessage(), null);
  video._t = 597;
  assert.equal(ctl.checkStatusMessage(), null, 'skipped near the end');
  ctl.setMovie({ active: true, live: true });
  video._t = 10;
  assert.equal(ctl.checkStatusMessage(), null, 'skipped for live streams');
  ctl.detach();
});

test('live streams are only kept playing at rate 1', async () => {
  const { video, ctl, sent, now } = setup();
  ctl.setMovie({ active: true, live: true });
  ctl.applyRemote({ isPlaying: true, currentTime: 0, playbackRate: 1 }, now(), 'current');
  await flush();
  assert.equal(video.paused, false);
  assert.ok(!video.calls.some((c) => c[0] === 'seek'));
  video.userPause();
  assert.deepEqual(sent, []);
});

test('events before a movie is active are ignored', () => {
  const { video, ctl, sent } = setup();
  ctl.setMovie({ active: false });
  video.userPlay();
  video.userSeek(100);
  assert.deepEqual(sent, []);
});

// ------------------------------------------------------------------ a client that can't follow the room

class RangelessVideo extends FakeVideo {
  // A host without Range support: every seek restarts the media at 0.
  set currentTime(v) {
    this.calls.push(['seek', v]);
    this._t = 0.2;
    this.emit('seeking');
    this.emit('seeked');
  }
  get currentTime() {
    return this._t;
  }
}

function setupWith(video) {
  let serverNow = 1_000_000;
  let local = 50_000;
  const sent = [];
  const events = [];
  const ctl = new SyncController({
    video, clock: { now: () => serverNow }, send: (m) => sent.push(m), canControl: () => true,
    onEvent: (e) => events.push(e), localNow: () => local,
  });
  ctl.attach({ autoTick: false });
  ctl.setMovie({ active: true, live: false });
  const advance = (ms) => {
    serverNow += ms;
    local += ms;
  };
  return { ctl, sent, events, advance, now: () => serverNow };
}

test('a player whose seeks fail never sends its own position and says why', async () => {
  const video = new RangelessVideo();
  const { ctl, sent, events, advance, now } = setupWith(video);
  ctl.applyRemote({ isPlaying: true, currentTime: 21.5, playbackRate: 1 }, now(), 'current');
  await flush();
  for (let i = 0; i < 4; i++) {
    advance(SYNC.SEEK_COOLDOWN_MS + 1);
    ctl.tick();
  }
  video.emit('pause');
  video.emit('play');
  video.emit('ratechange');
  assert.deepEqual(sent, [], 'no STATUS from a player that failed to follow the room');
  assert.ok(events.some((e) => e.type === 'unseekable' && e.reason === 'failed-seek'));
  const seeks = video.calls.filter((c) => c[0] === 'seek').length;
  advance(5000);
  ctl.tick();
  assert.equal(video.calls.filter((c) => c[0] === 'seek').length, seeks, 'no more seeks once it is known');
});

test('an empty seekable range is known as unseekable from the metadata', () => {
  const video = new FakeVideo();
  video.seekable = { length: 0, end: () => 0 };
  const { events } = setupWith(video);
  video.emit('loadedmetadata');
  assert.ok(events.some((e) => e.type === 'unseekable' && e.reason === 'range'));
  assert.ok(events.some((e) => e.type === 'metadata' && e.duration === 600));
});

test('events while catching up after a join are not sent; once aligned, the user is heard', async () => {
  const video = new FakeVideo();
  video.readyState = 1; // metadata, not enough data to play: a join is still loading
  const { ctl, sent, advance, now } = setupWith(video);
  ctl.applyRemote({ isPlaying: true, currentTime: 50, playbackRate: 1 }, now(), 'current');
  video._t = 0;
  ctl.aligned = false; // as if the first seek had not landed yet
  video.emit('pause');
  video.userSeek(0.3);
  assert.deepEqual(sent, [], 'nothing sent before the player once reached the room');
  video.readyState = 4;
  advance(SYNC.SEEK_COOLDOWN_MS + 1);
  ctl.tick(true);
  assert.equal(ctl.aligned, true);
  await flush();
  video.userPause();
  assert.equal(sent.length, 1, 'a user pause after alignment is sent');
});

import { instanceCandidates, wsUrl } from './roomsocket.js';

test('reconnect candidates: the own instance first, then the configured public addresses only', () => {
  assert.deepEqual(instanceCandidates('https://a.example', []), ['https://a.example']);
  assert.deepEqual(instanceCandidates('https://a.example', ['https://b.example/', 'https://a.example', 'ftp://x', 'https://c.example/path']),
    ['https://a.example', 'https://b.example']);
  assert.equal(wsUrl('https://b.example', 'r1'), 'wss://b.example/api/room/ws?roomId=r1');
  assert.equal(wsUrl('http://127.0.0.1:8080', 'r1'), 'ws://127.0.0.1:8080/api/room/ws?roomId=r1');
});

test('ClockSync keeps the least delayed recent sample across rounds and forgets old ones', async () => {
  let local = 0;
  let delay = 20;
  let offset = 500;
  const clock = new ClockSync({
    now: () => local, samples: 2, refreshMs: 1000, resolution: 0,
    fetchServerTime: async () => {
      local += delay / 2;
      const s = local + offset;
      local += delay / 2;
      return s;
    },
  });
  await clock.sync();
  delay = 60;
  await clock.sync();
  assert.equal(clock.rtt, 20, 'the better sample of the earlier round is kept');
  offset = 800; // e.g. the local clock was adjusted
  local += 4500; // older than four refresh periods
  await clock.sync();
  assert.equal(clock.rtt, 60);
  near(clock.offset, 800, 1e-6);
});

test('a paused player that must play starts from the room position instead of nudging towards it', async () => {
  const { video, ctl, advance, now } = setup();
  ctl.applyRemote({ isPlaying: false, currentTime: 10, playbackRate: 1 }, now(), 'SYNC');
  await flush();
  assert.ok(ctl.aligned && video.paused);
  advance(150);
  // the room started playing 150 ms ago (a late STATUS, or a refused pause being undone)
  ctl.applyRemote({ isPlaying: true, currentTime: 10, playbackRate: 1 }, now() - 150, 'STATUS');
  await flush();
  assert.equal(video.paused, false);
  near(video.currentTime, ctl.target(), 1e-6, 'seeked to the room position as it started');
  assert.equal(video.playbackRate, 1, 'no nudge needed');
});
