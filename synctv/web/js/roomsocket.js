// Room WebSocket: binary protobuf frames, token as subprotocol, automatic reconnect
// with exponential back-off.

import { decodeMessage, encodeMessage } from './proto.js';
import { backoffDelay } from './sync.js';

/** The page's own origin, then the operator's public addresses (deduplicated, without trailing slashes). */
export function instanceCandidates(own, alternates) {
  const out = [own.replace(/\/$/, '')];
  for (const a of alternates || []) {
    const v = String(a).replace(/\/$/, '');
    if (/^https?:\/\/[^/]+$/.test(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The room WebSocket URL on the instance at `base` (http(s)://host[:port]). */
export function wsUrl(base, roomId) {
  return `${base.replace(/^http/, 'ws')}/api/room/ws?roomId=${encodeURIComponent(roomId)}`;
}

export class RoomSocket {
  /**
   * @param {object} o
   * @param {string} o.roomId
   * @param {() => string} o.getToken
   * @param {(msg: object) => void} o.onMessage
   * @param {(state: string, info?: object) => void} [o.onState] 'connecting'|'open'|'closed'|'stopped'
   * @param {(reconnect: boolean) => void} [o.onOpen] called on every open; reconnect=true after the first
   * @param {(ev: CloseEvent) => Promise<boolean>|boolean} [o.shouldReconnect] checked after each close
   * @param {() => string[]} [o.alternates] other public base URLs of the cluster (operator-configured)
   */
  constructor({ roomId, getToken, onMessage, onState = () => {}, onOpen = () => {}, shouldReconnect = () => true,
    alternates = () => [] }) {
    this.alternates = alternates;
    this.baseIndex = 0; // 0: this page's own instance; i > 0: alternates()[i - 1]
    this.roomId = roomId;
    this.getToken = getToken;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onOpen = onOpen;
    this.shouldReconnect = shouldReconnect;
    this.ws = null;
    this.attempt = 0;
    this.everOpened = false;
    this.stopped = false;
    this.retryTimer = null;
    this.state = 'idle';
  }

  /** The instance this socket tries now: the page's own first, then the other public addresses in turn. */
  base() {
    const others = instanceCandidates(location.origin, this.alternates());
    return others[this.baseIndex % others.length];
  }

  url() {
    return wsUrl(this.base(), this.roomId);
  }

  setState(state, info) {
    this.state = state;
    this.onState(state, info);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const token = this.getToken();
    let ws;
    try {
      ws = token ? new WebSocket(this.url(), [token]) : new WebSocket(this.url());
    } catch (err) {
      this.setState('closed', { error: err });
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.setState('connecting', { attempt: this.attempt });
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.setState('open');
      this.onOpen(reconnect);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data === 'string') return; // the protocol is binary only
      let msg;
      try {
        msg = decodeMessage(new Uint8Array(ev.data));
      } catch (err) {
        console.warn('undecodable frame', err);
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = async (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.setState('closed', { code: ev.code, reason: ev.reason });
      let again = true;
      try {
        again = await this.shouldReconnect(ev);
      } catch {
        again = true;
      }
      if (again && !this.stopped) this.scheduleReconnect();
      else this.stop();
    };
    ws.onerror = () => {
      // onclose follows and handles the retry
    };
  }

  scheduleReconnect() {
    if (this.stopped) return;
    // After two failed tries on one instance, the next try goes to the next public address (if any).
    if (this.attempt >= 1 && this.attempt % 2 === 1) this.baseIndex++;
    const delay = backoffDelay(this.attempt++);
    this.setState('closed', { retryInMs: delay, attempt: this.attempt });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Send a Message object; returns false when the socket is not open. */
  send(msg) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeMessage(msg));
    return true;
  }

  /** Drop the current connection (it reconnects) — used by tests and the "reconnect" button. */
  reconnectNow() {
    this.attempt = 0;
    if (this.ws) this.ws.close();
    else this.connect();
  }

  /** Close for good; resolves once the socket has closed (or after `waitMs`), so what follows sees us gone. */
  stop(waitMs = 2000) {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    let closed = Promise.resolve();
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      closed = new Promise((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        ws.addEventListener('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
    this.setState('stopped');
    return closed;
  }
}
