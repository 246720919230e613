// Media loading into the <video> element: native playback for mp4/webm, hls.js for HLS (native HLS
// only where Media Source Extensions are missing), mpegts.js for FLV (flvplayer.js; live streams prefer it
// where MSE exists). hls.js is loaded on demand from node_modules (installed with `npm ci --prefix synctv/web`).

import { flvSource, liveFormat, mseAvailable, playFlv } from './flvplayer.js';

import { t } from './i18n.js';

const HLS_SCRIPT = new URL('../node_modules/hls.js/dist/hls.min.js', import.meta.url).href;

let hlsLoading = null;

function loadHlsJs() {
  if (globalThis.Hls) return Promise.resolve(globalThis.Hls);
  if (!hlsLoading) {
    hlsLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = HLS_SCRIPT;
      s.async = true;
      s.onload = () => (globalThis.Hls ? resolve(globalThis.Hls) : reject(new Error(t('player.hlsNotLoaded'))));
      s.onerror = () => {
        hlsLoading = null;
        reject(new Error(t('player.hlsMissing')));
      };
      document.head.append(s);
    });
  }
  return hlsLoading;
}

/** Kind of source: 'hls', 'flv', 'dash' or 'native'. */
export function sourceKind(base) {
  const type = String(base?.type || '').toLowerCase();
  if (type.startsWith('m3u') || type === 'hls') return 'hls';
  if (type === 'flv') return 'flv';
  if (type === 'mpd' || type === 'dash') return 'dash';
  if (type) return 'native';
  let ext = '';
  try {
    ext = new URL(base?.url || '', location.href).pathname.split('.').pop().toLowerCase();
  } catch {
    ext = '';
  }
  if (ext.startsWith('m3u')) return 'hls';
  if (ext === 'flv') return 'flv';
  if (ext === 'mpd') return 'dash';
  return 'native';
}

const FORBIDDEN_HEADERS = new Set(['referer', 'user-agent', 'origin', 'host', 'cookie', 'connection', 'content-length']);

/** The TS bytes after a PNG prefix (the server's `ts_disguised_as_png`): everything after the IEND chunk. */
export function stripPngPrefix(buf) {
  const bytes = new Uint8Array(buf);
  if (bytes.length < 8 || bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e || bytes[3] !== 0x47) return buf;
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const len = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    pos += 12 + len;
    if (type === 'IEND') return buf.slice(pos);
  }
  return buf;
}

function pngStrippingLoader(Hls) {
  const Base = Hls.DefaultConfig.loader;
  return class extends Base {
    load(context, config, callbacks) {
      const onSuccess = callbacks.onSuccess;
      const png = /\.png(\?|$)/.test(context.url);
      super.load(context, config, png ? {
        ...callbacks,
        onSuccess: (response, stats, ctx, networkDetails) => {
          if (response.data instanceof ArrayBuffer) response.data = stripPngPrefix(response.data);
          onSuccess(response, stats, ctx, networkDetails);
        },
      } : callbacks);
    }
  };
}

const LIVE_RETRY_MS = 2000;

export class MediaLoader {
  constructor(video) {
    this.video = video;
    this.hls = null;
    this.flv = null;
    this.engine = ''; // 'native', 'hls.js' or 'mpegts.js': what plays the current source
    this.url = '';
    this.retry = null;
    this.onWaiting = null; // (waiting: boolean) => void, for live streams that have not started
  }

  /** Unload any source. */
  reset() {
    clearTimeout(this.retry);
    this.retry = null;
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    if (this.flv) {
      this.flv.destroy();
      this.flv = null;
    }
    this.engine = '';
    this.url = '';
    this.video.removeAttribute('src');
    this.video.load();
  }

  /**
   * Load a movie base ({url, type, headers, live}). Resolves once the source is attached.
   * Throws an Error with a user-facing message when it cannot be played here.
   */
  async load(base) {
    this.engine = await this.loadSource(base);
    return this.engine;
  }

  async loadSource(base) {
    const url = new URL(base.url, location.href).href;
    this.reset();
    this.url = url;
    let kind = sourceKind(base);
    const flv = mseAvailable() ? flvSource(base, sourceKind) : '';
    if (flv && (kind === 'flv' || (base.live && liveFormat() === 'flv'))) {
      const handle = await playFlv(this.video, new URL(flv, location.href).href,
        { live: Boolean(base.live), onWaiting: (w) => this.onWaiting?.(w) });
      if (this.url !== url) {
        handle.destroy();
        return 'superseded';
      }
      this.flv = handle;
      return 'mpegts.js';
    }
    if (kind === 'flv' || kind === 'dash') {
      // prefer an HLS or native alternative when the server offers one
      const alt = (base.moreSources || []).find((s) => ['hls', 'native'].includes(sourceKind(s)));
      if (alt) return this.load({ ...base, url: alt.url, type: alt.type, moreSources: [] });
      throw new Error(`${kind.toUpperCase()} sources are not supported by this player`);
    }
    // hls.js wherever Media Source Extensions exist (it handles AES-128 keys, fMP4 init sections and
    // rendition switches the same way everywhere); native HLS only where there is no MSE (iOS Safari).
    const mse = Boolean(globalThis.MediaSource || globalThis.ManagedMediaSource);
    if (kind === 'hls' && !mse && this.video.canPlayType('application/vnd.apple.mpegurl')) kind = 'native';
    if (kind === 'native') {
      this.video.src = url;
      return 'native';
    }
    const Hls = await loadHlsJs();
    if (this.url !== url) return 'superseded';
    if (!Hls.isSupported()) throw new Error(t('player.hlsUnsupported'));
    const headers = Object.entries(base.headers || {}).filter(([k]) => !FORBIDDEN_HEADERS.has(k.toLowerCase()));
    const hls = new Hls({
      lowLatencyMode: Boolean(base.live),
      fLoader: pngStrippingLoader(Hls),
      xhrSetup: headers.length
        ? (xhr) => {
            for (const [k, v] of headers) {
              try {
                xhr.setRequestHeader(k, v);
              } catch {
                // header not allowed from the browser
              }
            }
          }
        : undefined,
    });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.onWaiting?.(false));
    hls.on(Hls.Events.ERROR, (_ev, data) => {
      if (!data.fatal) return;
      if (base.live && data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
        // a live stream that has not started yet (404): wait for it, then play without a page reload
        this.onWaiting?.(true);
        clearTimeout(this.retry);
        this.retry = setTimeout(() => {
          if (this.hls === hls) hls.loadSource(url);
        }, LIVE_RETRY_MS);
        return;
      }
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.loadSource(url);
    hls.attachMedia(this.video);
    return 'hls.js';
  }
}
