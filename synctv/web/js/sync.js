// Playback synchronisation engine: server clock estimation, the room's reference timeline,
// drift correction (playbackRate nudging / seeking), echo suppression of changes caused by
// applying remote state, and reconnect back-off. Everything here is DOM-free so it can be
// unit-tested in node; the video element is only used through a small duck-typed surface
// (currentTime, paused, ended, seeking, readyState, duration, playbackRate, play(), pause(),
// addEventListener/removeEventListener).

import { MessageType } from './proto.js';

export const SYNC = Object.freeze({
  SEEK_THRESHOLD: 0.4, // s: drift at or above this is corrected by seeking
  NUDGE_START: 0.025, // s: start nudging playbackRate from this drift
  NUDGE_STOP: 0.01, // s: stop nudging when back within this drift
  NUDGE_SPAN: 0.5, // s: drift that maps to a nudge of 1/NUDGE_SPAN (closes half the drift every 0.35 s)
  MAX_NUDGE: 0.1, // fraction of the base rate
  PAUSED_TOLERANCE: 0.01, // s: paused players are re-positioned beyond this difference (a paused seek is cheap)
  USER_SEEK_THRESHOLD: 1.0, // s: a seek this far from the reference timeline is a user seek
  SEEK_COOLDOWN_MS: 1500, // after a corrective seek, only nudge for this long
  MAX_SEEK_LEAD: 1.0, // s: cap of the lead added to corrective seeks while playing
  CHECK_INTERVAL_MS: 10000, // CHECK_STATUS period (upstream client value)
  CHECK_AFTER_SEEK_MS: 10000, // no CHECK_STATUS within this time after a local seek
  CHECK_END_MARGIN: 5, // s: no CHECK_STATUS when less than this remains
  SEEK_SEND_DEBOUNCE_MS: 300,
  TICK_MS: 250,
  FAILED_SEEKS_UNSEEKABLE: 2, // corrective seeks that land far from their target before giving up seeking
});

export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

// ---------------------------------------------------------------------------
// Clock offset (NTP-style)
// ---------------------------------------------------------------------------

/**
 * Pick the sample with the smallest round trip and derive the offset from it.
 * A sample is {t0, t1, serverTime} with t0/t1 = local ms before/after the request.
 * Returns {offset, rtt} (offset = serverTime - (t0 + t1) / 2) or null without valid samples.
 */
export function bestClockEstimate(samples) {
  let best = null;
  for (const s of samples) {
    if (!s || !Number.isFinite(s.serverTime) || !Number.isFinite(s.t0) || !Number.isFinite(s.t1)) continue;
    const rtt = s.t1 - s.t0;
    if (rtt < 0) continue;
    if (!best || rtt < best.rtt) best = { rtt, offset: s.serverTime - (s.t0 + s.t1) / 2 };
  }
  return best;
}

/**
 * NTP-style bounds on the offset. The server read its clock somewhere between a sample's t0 and t1, so the
 * offset lies in [serverTime - t1, serverTime + resolution - t0] (`resolution`: the server's clock is reported
 * in whole ms). Intersecting the bounds of several samples takes the least delayed request and the least
 * delayed response separately, which a single round trip (the min-RTT sample) rarely has both of: on a jittery
 * path the intersection is several times narrower. Samples are taken newest first and an older one that
 * contradicts the newer ones (a local clock step) ends the run. Returns {offset, error, rtt, used} or null.
 */
export function boundedClockEstimate(samples, resolution = 1) {
  let lo = -Infinity;
  let hi = Infinity;
  let rtt = null;
  let used = 0;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i];
    if (!s || !Number.isFinite(s.serverTime) || !Number.isFinite(s.t0) || !Number.isFinite(s.t1)) continue;
    if (s.t1 < s.t0) continue;
    const sLo = s.serverTime - s.t1;
    const sHi = s.serverTime + resolution - s.t0;
    const nLo = Math.max(lo, sLo);
    const nHi = Math.min(hi, sHi);
    if (nLo > nHi) break;
    lo = nLo;
    hi = nHi;
    used++;
    if (rtt === null || s.t1 - s.t0 < rtt) rtt = s.t1 - s.t0;
  }
  if (!used) return null;
  return { offset: (lo + hi) / 2, error: (hi - lo) / 2, rtt, used };
}

/** Local wall clock with sub-millisecond resolution where the platform has one. */
export function preciseNow() {
  const perf = globalThis.performance;
  if (perf && Number.isFinite(perf.timeOrigin) && typeof perf.now === 'function') return perf.timeOrigin + perf.now();
  return Date.now();
}

/** Estimates `server wall clock - local wall clock` from a time endpoint. */
export class ClockSync {
  /**
   * @param {object} o
   * @param {() => Promise<number>} o.fetchServerTime resolves to the server time in unix ms
   * @param {() => number} [o.now] local clock
   * @param {number} [o.samples] samples per round
   * @param {number} [o.refreshMs] time between rounds
   * @param {number} [o.keep] samples kept across rounds
   * @param {number} [o.warmupRounds] extra short rounds soon after the start, to narrow the first estimate
   * @param {number} [o.resolution] ms: the granularity of the server's reported time
   */
  constructor({ fetchServerTime, now = preciseNow, samples = 8, refreshMs = 30000, keep = 48, warmupRounds = 4,
    warmupMs = 2000, resolution = 1 } = {}) {
    this.fetchServerTime = fetchServerTime;
    this.keep = keep;
    this.history = [];
    this.localNow = now;
    this.samples = samples;
    this.refreshMs = refreshMs;
    this.warmupRounds = warmupRounds;
    this.warmupMs = warmupMs;
    this.resolution = resolution;
    this.offset = 0;
    this.rtt = null;
    this.error = null;
    this.synced = false;
    this.lastSyncAt = null;
    this.timer = null;
    this.warmupTimer = null;
  }

  /** Current server time estimate in ms. */
  now() {
    return this.localNow() + this.offset;
  }

  async sample() {
    const t0 = this.localNow();
    const serverTime = await this.fetchServerTime();
    const t1 = this.localNow();
    return { t0, t1, serverTime: Number(serverTime) };
  }

  /**
   * One round of samples. The estimate comes from this round and the recent ones (the last `keep` samples,
   * none older than four refresh periods), by intersecting their bounds (boundedClockEstimate): a noisier round
   * can only narrow the estimate, never replace a good one.
   */
  async sync(count = this.samples) {
    const fresh = [];
    for (let i = 0; i < count; i++) {
      try {
        fresh.push(await this.sample());
      } catch {
        // a failed sample is just skipped
      }
    }
    const horizon = this.localNow() - 4 * this.refreshMs;
    this.history = [...(this.history || []), ...fresh].filter((x) => x.t1 >= horizon).slice(-this.keep);
    const best = boundedClockEstimate(this.history, this.resolution);
    if (best) {
      this.offset = best.offset;
      this.rtt = best.rtt;
      this.error = best.error;
      this.lastSyncAt = this.localNow();
      this.synced = true;
    }
    return bestClockEstimate(fresh);
  }

  start() {
    this.stop();
    const p = this.sync();
    this.timer = setInterval(() => {
      this.sync(4);
    }, this.refreshMs);
    // A few more short rounds soon after the start: every sample can only narrow the bounds.
    let left = this.warmupRounds;
    const warm = () => {
      this.warmupTimer = null;
      if (left-- <= 0) return;
      this.sync(4).finally(() => {
        if (this.timer) this.warmupTimer = setTimeout(warm, this.warmupMs);
      });
    };
    p.finally(() => {
      if (this.timer) this.warmupTimer = setTimeout(warm, this.warmupMs);
    });
    return p;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    if (this.warmupTimer) clearTimeout(this.warmupTimer);
    this.timer = null;
    this.warmupTimer = null;
  }
}

// ---------------------------------------------------------------------------
// Reference timeline and correction decisions
// ---------------------------------------------------------------------------

/**
 * Normalise a playback status into a reference state.
 * @param {{isPlaying?: boolean, currentTime?: number, playbackRate?: number}} status
 * @param {number} timestamp server ms at which the status was valid
 */
export function makeState(status, timestamp) {
  const rate = Number(status?.playbackRate);
  return {
    isPlaying: Boolean(status?.isPlaying),
    currentTime: Number(status?.currentTime) || 0,
    playbackRate: Number.isFinite(rate) && rate > 0 ? rate : 1,
    timestamp: Number(timestamp),
  };
}

/** Position of the reference timeline at server time `serverNow` (ms). */
export function expectedPosition(state, serverNow) {
  if (!state) return 0;
  if (!state.isPlaying) return state.currentTime;
  const elapsed = Math.max(0, (serverNow - state.timestamp) / 1000);
  return state.currentTime + elapsed * state.playbackRate;
}

/** Rate that closes `diff` seconds (positive = behind) at the nudge slope. */
export function nudgedRate(baseRate, diff) {
  return baseRate * (1 + clamp(diff / SYNC.NUDGE_SPAN, -SYNC.MAX_NUDGE, SYNC.MAX_NUDGE));
}

/**
 * Decide how to correct a playing player.
 * @param {object} o
 * @param {number} o.diff target - local position (s); positive means the player is behind
 * @param {number} o.baseRate the room's playback rate
 * @param {boolean} [o.correcting] a rate nudge is in progress (hysteresis)
 * @param {boolean} [o.allowSeek] false during the cooldown after a corrective seek
 * @returns {{action: 'none'|'rate'|'seek', rate: number, correcting: boolean}}
 */
export function decideCorrection({ diff, baseRate, correcting = false, allowSeek = true }) {
  const abs = Math.abs(diff);
  if (abs >= SYNC.SEEK_THRESHOLD && allowSeek) return { action: 'seek', rate: baseRate, correcting: false };
  if (abs >= SYNC.NUDGE_START || (correcting && abs > SYNC.NUDGE_STOP)) {
    return { action: 'rate', rate: nudgedRate(baseRate, diff), correcting: true };
  }
  return { action: 'none', rate: baseRate, correcting: false };
}

/** Exponential back-off with jitter: 500 ms, 1 s, 2 s, … capped at `cap`. */
export function backoffDelay(attempt, { base = 500, cap = 10000, random = Math.random } = {}) {
  const raw = Math.min(cap, base * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.75 + 0.25 * random()));
}

/**
 * Reference state from a `GET /api/room/movie/current` response. The status there is
 * extrapolated to the response time; `lastUpdate` (RFC 3339) is that time. The envelope
 * `time` (unix µs) is the fallback.
 */
export function stateFromCurrent(current, envelopeTimeUs) {
  const status = current?.status || {};
  let ts = NaN;
  if (status.lastUpdate && !String(status.lastUpdate).startsWith('0001-')) ts = Date.parse(status.lastUpdate);
  if (!Number.isFinite(ts) && Number.isFinite(Number(envelopeTimeUs))) ts = Number(envelopeTimeUs) / 1000;
  return { state: makeState(status, ts), hasTimestamp: Number.isFinite(ts) };
}

// ---------------------------------------------------------------------------
// Controller bound to a video element
// ---------------------------------------------------------------------------

const HAVE_METADATA = 1;
const HAVE_FUTURE_DATA = 3;

export class SyncController {
  /**
   * @param {object} o
   * @param {object} o.video HTMLVideoElement (or a compatible object)
   * @param {{now: () => number}} o.clock server clock
   * @param {(msg: object) => boolean|void} o.send sends a protobuf Message object
   * @param {() => boolean} [o.canControl] may the local user change the room's playback
   * @param {(info: object) => void} [o.onEvent] notifications for the UI
   * @param {() => number} [o.localNow] monotonic-ish local ms for cool-downs
   */
  constructor({ video, clock, send, canControl = () => true, onEvent = () => {}, localNow = () => Date.now() }) {
    this.video = video;
    this.clock = clock;
    this.send = send;
    this.canControl = canControl;
    this.onEvent = onEvent;
    this.localNow = localNow;

    this.reference = null; // {isPlaying, currentTime, playbackRate, timestamp}
    this.lastApplied = null; // last remote state applied, with source
    this.active = false; // a movie is loaded
    this.live = false;
    this.correcting = false;
    this.appliedRate = null; // playbackRate value we set on the element
    this.pendingSeek = null; // {target, at}: corrective seek in flight
    this.seekLatency = 0; // s, EMA of corrective seek durations
    this.lastCorrectiveSeekAt = -Infinity;
    this.lastLocalSeekAt = -Infinity;
    this.playPending = false;
    this.ownPlay = false; // a play()/pause() we issued whose event has not arrived yet
    this.ownPause = false;
    this.autoplayBlocked = false;
    this.restorePending = false; // a refused local change is being undone
    this.seekSendTimer = null;
    this.timer = null;
    this.lastDiff = 0;
    this.lastAction = 'none';
    this.stats = { seeks: 0, nudges: 0, sent: 0, applied: 0 };
    // Until the player has once reached the room's position (after a join or a new movie), its events are
    // loading and catching up, never a user's choice: nothing is sent. A player that can't seek (its media
    // host doesn't answer Range requests) never gets there, so it never drags the room back.
    this.aligned = false;
    this.unseekable = false;
    this.failedSeeks = 0;

    this.handlers = {
      play: () => this.onPlay(),
      pause: () => this.onPause(),
      seeking: () => this.onSeeking(),
      seeked: () => this.onSeeked(),
      ratechange: () => this.onRateChange(),
      loadedmetadata: () => {
        this.checkSeekable();
        this.onEvent({ type: 'metadata', duration: this.video.duration });
        this.tick(true);
      },
      canplay: () => this.tick(),
    };
  }

  attach({ autoTick = true } = {}) {
    for (const [ev, fn] of Object.entries(this.handlers)) this.video.addEventListener(ev, fn);
    if (autoTick && !this.timer) this.timer = setInterval(() => this.tick(), SYNC.TICK_MS);
  }

  detach() {
    for (const [ev, fn] of Object.entries(this.handlers)) this.video.removeEventListener(ev, fn);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.cancelSeekSend();
  }

  serverNow() {
    return this.clock.now();
  }

  baseRate() {
    return this.live ? 1 : this.reference?.playbackRate || 1;
  }

  /** Reference position now (s), clamped to the media duration when known. */
  target() {
    let t = expectedPosition(this.reference, this.serverNow());
    const d = this.video.duration;
    if (Number.isFinite(d) && d > 0) t = Math.min(t, d);
    return Math.max(0, t);
  }

  /** Offset of the player from the reference timeline in seconds (positive = ahead). */
  drift() {
    if (!this.reference || !this.active) return 0;
    return this.video.currentTime - this.target();
  }

  /** A new movie was loaded into the element (or unloaded with active=false). */
  setMovie({ active = true, live = false } = {}) {
    this.active = active;
    this.live = live;
    this.correcting = false;
    this.pendingSeek = null;
    this.appliedRate = null;
    this.ownPause = false;
    this.autoplayBlocked = false;
    this.aligned = false;
    this.unseekable = false;
    this.failedSeeks = 0;
    this.cancelSeekSend();
  }

  /** The media can't be positioned: follow play/pause only and tell the UI why. */
  markUnseekable(reason) {
    if (this.unseekable) return;
    this.unseekable = true;
    this.pendingSeek = null;
    this.onEvent({ type: 'unseekable', reason });
  }

  /** A source whose seekable range is empty once its metadata is known can't be positioned. */
  checkSeekable() {
    const r = this.video.seekable;
    if (!r || typeof r.length !== 'number' || this.live) return;
    const d = this.video.duration;
    if (Number.isFinite(d) && d > 0 && (r.length === 0 || r.end(r.length - 1) <= 0)) this.markUnseekable('range');
  }

  /**
   * Apply an authoritative state received from the server.
   * @param {object} status {isPlaying, currentTime, playbackRate}
   * @param {number} [timestamp] server ms the status was valid at; 0/absent = now (upstream STATUS)
   * @param {string} [source] e.g. 'STATUS', 'SYNC', 'CHECK_STATUS', 'current'
   */
  applyRemote(status, timestamp, source = 'remote') {
    const ts = Number(timestamp) > 0 ? Number(timestamp) : this.serverNow();
    this.reference = makeState(status, ts);
    this.lastApplied = { ...this.reference, source, receivedAt: this.serverNow() };
    this.stats.applied++;
    this.correcting = false;
    this.cancelSeekSend();
    this.tick(true);
    this.onEvent({ type: 'applied', state: this.lastApplied });
  }

  // --- element control (all programmatic changes go through here) ---

  setRate(rate) {
    const v = this.video;
    this.appliedRate = rate;
    if (Math.abs(v.playbackRate - rate) > 1e-6) v.playbackRate = rate;
  }

  seekTo(target) {
    if (this.unseekable) return;
    this.pendingSeek = { target, at: this.localNow() };
    this.lastCorrectiveSeekAt = this.localNow();
    this.stats.seeks++;
    this.video.currentTime = target;
  }

  playElement() {
    if (this.playPending) return;
    this.playPending = true;
    this.ownPlay = true;
    let p;
    try {
      p = this.video.play();
    } catch (err) {
      p = Promise.reject(err);
    }
    Promise.resolve(p).then(
      () => {
        this.playPending = false;
        if (this.autoplayBlocked) {
          this.autoplayBlocked = false;
          this.onEvent({ type: 'autoplay-ok' });
        }
      },
      (err) => {
        this.playPending = false;
        this.ownPlay = false;
        if (err && err.name === 'NotAllowedError') {
          this.autoplayBlocked = true;
          this.onEvent({ type: 'autoplay-blocked', error: err });
        }
      },
    );
  }

  /** Bring the element in line with the reference timeline. */
  tick(force = false) {
    const v = this.video;
    const ref = this.reference;
    if (!ref || !this.active) return;
    const now = this.localNow();

    if (this.live) {
      if (v.paused && !this.autoplayBlocked) this.playElement();
      this.setRate(1);
      return;
    }

    const target = this.target();
    const ended = v.ended || (Number.isFinite(v.duration) && v.duration > 0 && v.currentTime >= v.duration - 0.05);

    // play / pause state
    if (ref.isPlaying) {
      const atEnd = Number.isFinite(v.duration) && target >= v.duration - 0.25;
      if (v.paused && !(ended && atEnd) && !this.autoplayBlocked) {
        // A paused element seeks cheaply: start from where the room is rather than catching up by nudging
        // (a refused pause being undone, a play that arrived late).
        if (this.aligned && !this.unseekable && !v.seeking && v.readyState >= HAVE_METADATA
          && Math.abs(target - v.currentTime) >= SYNC.NUDGE_START) this.seekTo(target);
        this.playElement();
      }
    } else if (!v.paused) {
      this.ownPause = true;
      v.pause();
    }

    if (v.readyState < HAVE_METADATA) return;
    if (v.seeking) return;
    this.restorePending = false;
    if (this.pendingSeek && now - this.pendingSeek.at > 5000) this.pendingSeek = null;

    const diff = target - v.currentTime;
    this.lastDiff = -diff;
    if (!this.aligned && Math.abs(diff) < SYNC.SEEK_THRESHOLD) {
      this.aligned = true;
      this.onEvent({ type: 'aligned' });
    }

    if (!ref.isPlaying) {
      this.setRate(this.baseRate());
      this.correcting = false;
      if (Math.abs(diff) > SYNC.PAUSED_TOLERANCE) {
        this.lastAction = 'seek';
        this.seekTo(target);
      } else {
        this.lastAction = 'none';
      }
      return;
    }

    if (ended && diff >= 0) {
      this.setRate(this.baseRate());
      return;
    }
    if (!force && v.readyState < HAVE_FUTURE_DATA) return; // buffering: wait

    const allowSeek = force || now - this.lastCorrectiveSeekAt >= SYNC.SEEK_COOLDOWN_MS;
    const d = decideCorrection({ diff, baseRate: this.baseRate(), correcting: this.correcting, allowSeek });
    this.correcting = d.correcting;
    this.lastAction = d.action;
    if (d.action === 'seek' && this.unseekable) {
      this.setRate(this.baseRate());
    } else if (d.action === 'seek') {
      const lead = Math.min(this.seekLatency, SYNC.MAX_SEEK_LEAD) * this.baseRate();
      let to = target + (ref.isPlaying ? lead : 0);
      if (Number.isFinite(v.duration) && v.duration > 0) to = Math.min(to, v.duration);
      this.setRate(this.baseRate());
      this.seekTo(to);
    } else {
      if (d.action === 'rate') this.stats.nudges++;
      this.setRate(d.rate);
    }
  }

  // --- local user actions ---

  /** Reference state after a local change, stamped with the server clock. */
  localChange(patch) {
    const ts = this.serverNow();
    const base = this.reference || makeState({ isPlaying: !this.video.paused, playbackRate: 1 }, ts);
    this.reference = {
      isPlaying: base.isPlaying,
      playbackRate: base.playbackRate,
      ...patch,
      currentTime: this.video.currentTime,
      timestamp: ts,
    };
    this.correcting = false;
    this.setRate(this.baseRate());
  }

  statusMessage(type = MessageType.STATUS) {
    const ref = this.reference;
    return {
      type,
      timestamp: Math.round(this.serverNow()),
      playbackStatus: {
        isPlaying: ref ? ref.isPlaying : !this.video.paused,
        currentTime: this.video.currentTime,
        playbackRate: this.baseRate(),
      },
    };
  }

  sendStatus() {
    if (!this.reference) return;
    this.stats.sent++;
    this.send(this.statusMessage(MessageType.STATUS));
    this.onEvent({ type: 'sent', state: { ...this.reference } });
  }

  denied(action) {
    this.onEvent({ type: 'denied', action });
    // Undo the refused change at once: every periodic tick of delay is lag the player must then catch up
    // by nudging. A refused seek is undone when the element has finished seeking (see onSeeked).
    this.restorePending = true;
    this.tick(true);
  }

  ignoreEvents() {
    // before metadata there is nothing a user can meaningfully control; events then come from loading,
    // and until the player first reached the room's position they come from catching up (or failing to)
    return !this.active || !this.reference || this.live || this.video.readyState < HAVE_METADATA
      || !this.aligned || this.unseekable;
  }

  /** Retry playback after a user gesture (autoplay was blocked). */
  resumeAfterGesture() {
    this.autoplayBlocked = false;
    this.tick(true);
  }

  onPlay() {
    if (this.autoplayBlocked) {
      this.autoplayBlocked = false;
      this.onEvent({ type: 'autoplay-ok' });
    }
    if (this.ownPlay) {
      this.ownPlay = false;
      return;
    }
    if (this.ignoreEvents()) return;
    if (this.reference.isPlaying) return; // consistent with the room (our own play())
    if (!this.canControl()) return this.denied('play');
    this.localChange({ isPlaying: true });
    this.sendStatus();
  }

  onPause() {
    if (this.ownPause) {
      this.ownPause = false;
      return;
    }
    if (this.ignoreEvents()) return;
    if (!this.reference.isPlaying) return; // consistent (our own pause())
    if (this.video.ended) return; // natural end of the media, not a user pause
    if (!this.canControl()) return this.denied('pause');
    this.localChange({ isPlaying: false });
    this.sendStatus();
  }

  onSeeking() {
    if (this.ignoreEvents()) return;
    const v = this.video;
    // Any seek while one of ours is in flight is ours (a failed one lands somewhere else).
    if (this.pendingSeek && this.localNow() - this.pendingSeek.at < 5000) return;
    if (Math.abs(v.currentTime - this.target()) < SYNC.USER_SEEK_THRESHOLD) return; // e.g. a player nudge
    if (!this.canControl()) return this.denied('seek');
    this.lastLocalSeekAt = this.localNow();
    this.localChange({});
    this.scheduleSeekSend();
  }

  onSeeked() {
    if (this.restorePending) this.tick(true);
    const p = this.pendingSeek;
    if (p && Math.abs(this.video.currentTime - p.target) < 0.5) {
      const took = (this.localNow() - p.at) / 1000;
      this.seekLatency = this.seekLatency === 0 ? took : this.seekLatency * 0.7 + took * 0.3;
      this.pendingSeek = null;
      this.failedSeeks = 0;
      if (!this.aligned) {
        this.aligned = true;
        this.onEvent({ type: 'aligned' });
      }
    } else if (p && p.target > 1 && Math.abs(this.video.currentTime - p.target) >= SYNC.USER_SEEK_THRESHOLD) {
      // Our seek landed far away (typically back at 0): the host can't serve a position.
      this.pendingSeek = null;
      this.failedSeeks++;
      if (this.failedSeeks >= SYNC.FAILED_SEEKS_UNSEEKABLE) this.markUnseekable('failed-seek');
    }
  }

  onRateChange() {
    if (this.ignoreEvents()) return;
    const rate = this.video.playbackRate;
    if (this.appliedRate !== null && Math.abs(rate - this.appliedRate) < 1e-6) return; // ours
    if (!(rate > 0)) return;
    if (!this.canControl()) return this.denied('rate');
    this.localChange({ playbackRate: rate });
    this.sendStatus();
  }

  scheduleSeekSend() {
    this.cancelSeekSend();
    this.seekSendTimer = setTimeout(() => {
      this.seekSendTimer = null;
      if (this.reference) {
        this.localChange({});
        this.sendStatus();
      }
    }, SYNC.SEEK_SEND_DEBOUNCE_MS);
  }

  cancelSeekSend() {
    if (this.seekSendTimer) clearTimeout(this.seekSendTimer);
    this.seekSendTimer = null;
  }

  /** CHECK_STATUS message for the periodic check, or null when it should be skipped. */
  checkStatusMessage() {
    if (!this.active || this.live || !this.reference) return null;
    if (this.localNow() - this.lastLocalSeekAt < SYNC.CHECK_AFTER_SEEK_MS) return null;
    const d = this.video.duration;
    if (Number.isFinite(d) && d > 0 && d - this.video.currentTime < SYNC.CHECK_END_MARGIN) return null;
    return this.statusMessage(MessageType.CHECK_STATUS);
  }
}
