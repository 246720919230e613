// HTTP-FLV playback with mpegts.js (Media Source Extensions): live streams from the server's channels
// (`rtmpSource` and pulled live movies offer an FLV source next to HLS) and FLV files. FLV reaches the screen
// sooner than HLS (no segments to wait for), so it is the default for live streams where MSE exists; the
// reader can switch to HLS (kept in localStorage 'synctv.liveFormat'). mpegts.js is loaded on demand from
// node_modules (installed with `npm ci --prefix synctv/web`).
import { t } from './i18n.js';

const MPEGTS_SCRIPT = new URL('../node_modules/mpegts.js/dist/mpegts.js', import.meta.url).href;
const FORMAT_KEY = 'synctv.liveFormat';
export const LIVE_FORMATS = ['flv', 'hls'];
const RETRY_MS = 2000;
const WAITING_AFTER_MS = 1500; // no picture yet after this long: the stream has not started

let loading = null;

function loadMpegts() {
  if (globalThis.mpegts) return Promise.resolve(globalThis.mpegts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = MPEGTS_SCRIPT;
      s.async = true;
      s.onload = () => (globalThis.mpegts ? resolve(globalThis.mpegts) : reject(new Error(t('player.flv.notLoaded'))));
      s.onerror = () => {
        loading = null;
        reject(new Error(t('player.flv.notInstalled')));
      };
      document.head.append(s);
    });
  }
  return loading;
}

/** The reader's choice for live streams that offer both: 'flv' (default) or 'hls'. */
export function liveFormat(storage = globalThis.localStorage) {
  let value = '';
  try {
    value = storage?.getItem(FORMAT_KEY) || '';
  } catch {
    value = ''; // storage blocked
  }
  return LIVE_FORMATS.includes(value) ? value : 'flv';
}

export function setLiveFormat(value, storage = globalThis.localStorage) {
  if (!LIVE_FORMATS.includes(value)) return;
  try {
    storage?.setItem(FORMAT_KEY, value);
  } catch {
    // storage blocked: the choice lasts for this page only
  }
}

/** The FLV URL of a movie base: its own URL when it is FLV, else an FLV alternative in moreSources; '' if none. */
export function flvSource(base, kindOf) {
  if (kindOf(base) === 'flv') return base.url;
  const alt = (base?.moreSources || []).find((s) => kindOf(s) === 'flv');
  return alt ? alt.url : '';
}

/** Whether the live-format choice applies to this movie: a live stream offering FLV and another source. */
export function offersLiveChoice(base, kindOf) {
  return Boolean(base?.live) && kindOf(base) !== 'flv' && flvSource(base, kindOf) !== '';
}

export function mseAvailable() {
  return Boolean(globalThis.MediaSource || globalThis.ManagedMediaSource);
}

/**
 * Play `url` (FLV) in `video`. `onWaiting(bool)` tells when a live stream has no picture yet / again; a live
 * stream that ends or fails is reopened every RETRY_MS (the publisher may reconnect, or move to another
 * instance) without a page reload. Resolves to a handle whose destroy() stops it.
 */
export async function playFlv(video, url, { live = false, onWaiting = null } = {}) {
  const mpegts = await loadMpegts();
  if (!mpegts.getFeatureList().mseLivePlayback) throw new Error(t('player.flv.unsupported'));
  let player = null;
  let retry = null;
  let waiting = null;
  let stopped = false;

  const open = () => {
    player = mpegts.createPlayer({ type: 'flv', isLive: live, url }, {
      enableWorker: false,
      lazyLoad: !live,
      liveBufferLatencyChasing: live,
      autoCleanupSourceBuffer: live,
    });
    const current = player;
    if (live) {
      clearTimeout(waiting);
      waiting = setTimeout(() => onWaiting?.(true), WAITING_AFTER_MS);
    }
    current.on(mpegts.Events.MEDIA_INFO, () => {
      clearTimeout(waiting);
      onWaiting?.(false);
    });
    const reopen = () => {
      if (stopped || current !== player || !live) return;
      onWaiting?.(true);
      current.destroy();
      player = null;
      clearTimeout(retry);
      retry = setTimeout(() => {
        if (!stopped) open();
      }, RETRY_MS);
    };
    current.on(mpegts.Events.ERROR, reopen);
    current.on(mpegts.Events.LOADING_COMPLETE, reopen);
    current.attachMediaElement(video);
    current.load(); // playing is the room's sync's job, as for every other source
  };

  open();
  return {
    destroy() {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(waiting);
      if (player) {
        player.destroy();
        player = null;
      }
    },
  };
}

/** The live-format selector of the player bar: shows the choice, stores a change, then calls `onChange`. */
export function wireLiveFormat(select, onChange) {
  select.value = liveFormat();
  select.addEventListener('change', () => {
    setLiveFormat(select.value);
    onChange(select.value);
  });
}
