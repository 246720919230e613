// HTTP client for the SyncTV API: envelope {data, time} / {error, time}, token in the
// `Authorization` header, room-scoped calls add `X-Room-Id`.

const TOKEN_KEY = 'userToken'; // same key the OAuth2 callback page writes

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

export const auth = {
  get token() {
    try {
      return localStorage.getItem(TOKEN_KEY) || '';
    } catch {
      return '';
    }
  },
  set token(value) {
    try {
      if (value) localStorage.setItem(TOKEN_KEY, value);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage unavailable: the session lasts for this page only
    }
  },
};

function buildUrl(path, query) {
  const url = new URL(path, location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  return url;
}

/**
 * Perform a request and return the whole envelope: {data, time, status, text}.
 * Throws ApiError for non-2xx answers, with the server's `error` message when present.
 */
export async function requestFull(method, path, { query, body, roomId, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const token = auth.token;
  if (token) headers.Authorization = token;
  if (roomId) headers['X-Room-Id'] = roomId;
  const init = { method, headers, signal, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(buildUrl(path, query), init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(`network error: ${err?.message || err}`, 0, null);
  }
  const text = res.status === 204 ? '' : await res.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const msg = (json && (json.error || json.message)) || `${res.status} ${res.statusText}`.trim();
    throw new ApiError(msg, res.status, json);
  }
  return { data: json && 'data' in json ? json.data : null, time: json?.time, status: res.status, text };
}

export async function request(method, path, opts) {
  return (await requestFull(method, path, opts)).data;
}

export const get = (path, opts) => request('GET', path, opts);
/** GET an endpoint that answers bare JSON, not the envelope (`/oauth2/enabled`, `/api/user/providers`). */
export const getRaw = async (path, opts) => JSON.parse((await requestFull('GET', path, opts)).text || 'null');
export const post = (path, body, opts = {}) => request('POST', path, { ...opts, body: body ?? {} });

/** Extract an unsigned integer field from raw JSON text without losing 64-bit precision. */
export function rawUintField(text, name) {
  const m = new RegExp(`"${name}"\\s*:\\s*(\\d+)`).exec(text || '');
  if (!m) return 0;
  const big = BigInt(m[1]);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

let timeSource = '/api/public/time';

/**
 * Server wall-clock ms from the time endpoint. Servers without it (the upstream Go server)
 * are sampled through the envelope `time` (unix µs) of `/api/public/settings` instead.
 */
export async function fetchServerTime() {
  let r;
  try {
    r = await requestFull('GET', timeSource);
  } catch (err) {
    if (timeSource === '/api/public/time' && err instanceof ApiError && [404, 405].includes(err.status)) {
      timeSource = '/api/public/settings';
      r = await requestFull('GET', timeSource);
    } else {
      throw err;
    }
  }
  const st = Number(r.data?.serverTime);
  if (Number.isFinite(st) && st > 0) return st;
  const env = Number(r.time);
  if (Number.isFinite(env) && env > 0) return env / 1000;
  throw new ApiError('no server time', r.status, null);
}
