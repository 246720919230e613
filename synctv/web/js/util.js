// Small shared helpers (DOM-free parts are unit-tested in node).

/** Undo the server's HTML escaping of chat text (&lt; &gt; &amp; &#39; &#34; and friends). */
export function unescapeHtml(text) {
  return String(text ?? '').replace(/&(lt|gt|amp|quot|apos|#39|#34|#x27|#x22);/g, (_, ent) => {
    switch (ent) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
      case '#34':
      case '#x22':
        return '"';
      default:
        return "'";
    }
  });
}

/** 75.4 -> "1:15", 3725 -> "1:02:05". */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export const MEMBER_PERMISSIONS = Object.freeze([
  { bit: 1, key: 'getMovieList', label: 'View playlist' },
  { bit: 2, key: 'addMovie', label: 'Add movies' },
  { bit: 4, key: 'deleteMovie', label: 'Delete movies' },
  { bit: 8, key: 'editMovie', label: 'Edit / reorder movies' },
  { bit: 16, key: 'setCurrentMovie', label: 'Change current movie' },
  { bit: 32, key: 'setCurrentStatus', label: 'Control playback' },
  { bit: 64, key: 'sendChatMessage', label: 'Send chat' },
  { bit: 128, key: 'webRTC', label: 'Voice (WebRTC)' },
]);

export const PERM = Object.freeze(Object.fromEntries(MEMBER_PERMISSIONS.map((p) => [p.key, p.bit])));

export const USER_ROLE = Object.freeze({ 1: 'banned', 2: 'pending', 3: 'user', 4: 'admin', 5: 'root' });
export const MEMBER_ROLE = Object.freeze({ 0: 'unknown', 1: 'member', 2: 'admin', 3: 'creator' });
export const MEMBER_STATUS = Object.freeze({ 0: 'not joined', 1: 'banned', 2: 'pending', 3: 'active' });
export const ROOM_STATUS = Object.freeze({ 0: '', 1: 'banned', 2: 'pending', 3: 'active' });

/** Member permission bits of `perms` as a list of booleans in MEMBER_PERMISSIONS order. */
export function permissionFlags(perms) {
  const p = Number(perms) >>> 0;
  return MEMBER_PERMISSIONS.map(({ bit }) => (p & bit) === bit);
}

/** Combine checkbox states back into the permission number, preserving bits above the 8 known ones. */
export function permissionsFromFlags(flags, previous = 0) {
  let p = (Number(previous) >>> 0) & ~0xff;
  MEMBER_PERMISSIONS.forEach(({ bit }, i) => {
    if (flags[i]) p |= bit;
  });
  return p >>> 0;
}

/** Lower-case file extension of a URL path ('' when there is none). */
export function extOf(url) {
  try {
    const last = new URL(url, 'http://x/').pathname.split('/').pop() || '';
    const dot = last.lastIndexOf('.');
    return dot > 0 ? last.slice(dot + 1).toLowerCase() : '';
  } catch {
    return '';
  }
}

/** `Name: value` lines into a headers object (blank lines and lines without a colon are skipped). */
export function parseHeaders(text) {
  const out = {};
  for (const line of String(text || '').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    if (name) out[name] = line.slice(i + 1).trim();
  }
  return out;
}

/** Guess a display name from a media URL. */
export function nameFromUrl(url) {
  try {
    const u = new URL(url, 'http://x/');
    const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() || '');
    return last || u.hostname || url;
  } catch {
    return String(url);
  }
}

/**
 * Tiny DOM builder: h('button', {class: 'x', onclick: fn, dataset: {id: 1}}, 'text', child).
 * Strings become text nodes (never HTML).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A short name for a browser's User-Agent: "Firefox on Android", "Chrome on Windows"; '' when unknown. */
export function deviceName(userAgent) {
  const ua = String(userAgent || '');
  if (!ua) return '';
  const browser = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'],
    ['Chromium/', 'Chromium'], ['Safari/', 'Safari']].find(([m]) => ua.includes(m));
  const system = [['Android', 'Android'], ['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Windows', 'Windows'],
    ['Mac OS X', 'macOS'], ['CrOS', 'ChromeOS'], ['Linux', 'Linux']].find(([m]) => ua.includes(m));
  if (browser && system) return `${browser[1]} · ${system[1]}`;
  if (browser || system) return (browser || system)[1];
  return ua.slice(0, 60);
}
