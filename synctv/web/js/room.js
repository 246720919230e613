// Room page: player + sync engine, playlist, chat, viewer count, room administration.

import { ApiError, auth, fetchServerTime, get, post, rawUintField, requestFull } from './api.js';
import { offersLiveChoice, wireLiveFormat } from './flvplayer.js';
import { MediaLoader, sourceKind } from './player.js';
import { MessageType, MessageTypeName } from './proto.js';
import { RoomSocket } from './roomsocket.js';
import { hasKey, t } from './i18n.js';
import { VendorPanel, attachSubtitles } from './vendors.js';
import { ClockSync, SYNC, SyncController, stateFromCurrent } from './sync.js';
import {
  MEMBER_PERMISSIONS,
  MEMBER_ROLE,
  PERM,
  extOf,
  formatTime,
  h,
  nameFromUrl,
  parseHeaders,
  permissionFlags,
  permissionsFromFlags,
  unescapeHtml,
} from './util.js';

const $ = (id) => document.getElementById(id);
const CHAT_LIMIT = 200;
const PLAYLIST_PAGE = 20;

/** Shared server clock, started on the first room visit. */
export const clock = new ClockSync({ fetchServerTime });

export class RoomView {
  constructor({ session, toast }) {
    this.session = session;
    this.toast = toast;
    this.roomId = null;
    this.room = null; // /api/room/check
    this.me = null; // /api/room/me
    this.socket = null;
    this.current = null; // {movie, status, expireId}
    this.loadedKey = '';
    this.currentSeq = 0;
    this.playlist = { page: 1, total: 0, folder: '', subPath: '', movies: [] };
    this.timers = [];
    this.entering = null;
  }

  // ---------------------------------------------------------------- setup

  setup() {
    this.video = $('player');
    this.loader = new MediaLoader(this.video);
    this.controller = new SyncController({
      video: this.video,
      clock,
      send: (msg) => this.socket?.send(msg),
      canControl: () => this.can(PERM.setCurrentStatus),
      onEvent: (ev) => this.onSyncEvent(ev),
    });
    this.controller.attach();
    const view = this;
    window.synctvPlayer = {
      get video() {
        return view.video;
      },
      get controller() {
        return view.controller;
      },
      /** last state applied from the server (STATUS / SYNC / CHECK_STATUS / current) */
      get state() {
        return view.controller.lastApplied;
      },
      /** the reference timeline currently followed (includes local changes) */
      get reference() {
        return view.controller.reference;
      },
      get expectedPosition() {
        return view.controller.reference ? view.controller.target() : null;
      },
      get drift() {
        return view.controller.drift();
      },
      get clockOffset() {
        return clock.offset;
      },
      get clockRtt() {
        return clock.rtt;
      },
      get socketState() {
        return view.socket?.state ?? 'idle';
      },
      /** the instance the room's socket is connected to (or trying) */
      get socketBase() {
        return view.socket?.base?.() ?? '';
      },
      get current() {
        return view.current;
      },
      /** what plays the current source: 'native', 'hls.js' or 'mpegts.js' */
      get engine() {
        return view.loader.engine;
      },
      get roomId() {
        return view.roomId;
      },
      serverNow: () => clock.now(),
      reconnect: () => view.socket?.reconnectNow(),
      sync: () => view.send({ type: MessageType.SYNC }),
    };

    $('chat-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('chat-input');
      const text = input.value.trim();
      if (!text) return;
      if (this.send({ type: MessageType.CHAT, chatContent: text })) input.value = '';
      else this.toast(t('chat.notConnected'), { error: true });
    });
    $('sync-button').addEventListener('click', () => {
      if (!this.send({ type: MessageType.SYNC })) this.toast(t('room.notConnected'), { error: true });
    });
    $('stop-movie').addEventListener('click', () => this.setCurrent(''));
    $('copy-link').addEventListener('click', async () => {
      const link = $('share-link');
      try {
        await navigator.clipboard.writeText(link.value);
        this.toast(t('room.share.copied'));
      } catch {
        link.select();
        this.toast(t('room.share.copyFailed'), { error: true });
      }
    });
    $('leave-room').addEventListener('click', () => {
      location.hash = '#/rooms';
    });
    $('unmute-button').addEventListener('click', () => {
      this.video.muted = false;
      $('unmute-button').hidden = true;
      this.controller.resumeAfterGesture();
    });
    $('add-movie-form').addEventListener('submit', (ev) => this.addMovie(ev));
    this.libraries = ['alist', 'emby'].map((vendor) => new VendorPanel({
      vendor, roomId: null, onAdded: () => this.loadPlaylist(), toast: this.toast }));
    for (const panel of this.libraries) panel.wire();
    $('movie-rtmp').addEventListener('change', () => {
      // an RTMP source has no URL: the stream is published to the server
      $('movie-url').required = !$('movie-rtmp').checked;
      $('movie-url').disabled = $('movie-rtmp').checked;
    });
    wireLiveFormat($('live-format'), () => {
      this.loadedKey = ''; // reload the current live stream in the chosen format
      this.loadCurrent();
    });
    this.loader.onWaiting = (waiting) => {
      const np = $('now-playing');
      const name = np.dataset.name || '';
      np.textContent = waiting ? t('player.waitingStream', { name }) : t('player.nowPlayingLive', { name });
      np.dataset.waiting = waiting ? 'true' : '';
    };
    $('movie-url').addEventListener('change', () => {
      if (!$('movie-name').value) $('movie-name').placeholder = nameFromUrl($('movie-url').value);
    });
    $('playlist-prev').addEventListener('click', () => {
      this.playlist.page = Math.max(1, this.playlist.page - 1);
      this.loadPlaylist();
    });
    $('playlist-next').addEventListener('click', () => {
      this.playlist.page += 1;
      this.loadPlaylist();
    });
    $('member-filter').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.loadMembers();
    });
    $('member-status').addEventListener('change', () => this.loadMembers());
    $('room-settings-form').addEventListener('submit', (ev) => this.saveRoomSettings(ev));
    $('room-password-form').addEventListener('submit', (ev) => this.saveRoomPassword(ev));
    $('room-delete').addEventListener('click', () => this.deleteRoom());
    document.addEventListener('visibilitychange', () => {
      // timers are throttled in background tabs: re-check against the room when visible again
      if (document.visibilityState === 'visible' && this.roomId) {
        this.controller.tick(true);
        this.send({ type: MessageType.SYNC });
      }
    });
    $('room-admin').addEventListener('toggle', () => {
      if ($('room-admin').open) this.loadAdminPanel();
    });
  }

  // ---------------------------------------------------------------- enter / leave

  async enter(roomId, { needLogin }) {
    if (this.roomId === roomId && this.socket) return;
    this.leave();
    this.roomId = roomId;
    const token = this.entering = Symbol('enter');
    const err = $('room-error');
    err.textContent = '';
    $('room-name').textContent = t('room.defaultName');
    $('viewer-count').textContent = '0';
    this.showMissing(null);
    const link = new URL(location.href);
    link.hash = `#/room/${roomId}`;
    $('share-link').value = link.href;
    $('guest-banner').hidden = this.session.loggedIn;
    try {
      let check;
      try {
        check = await get('/api/room/check', { query: { roomId } });
      } catch (e) {
        if (this.entering !== token) return;
        if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
          this.roomId = null;
          this.showMissing('notFound', roomId);
          return;
        }
        throw e;
      }
      if (this.entering !== token) return;
      this.room = check;
      $('share-password-hint').hidden = !check.needPassword;
      $('room-name').textContent = check.name || t('room.defaultName');
      document.title = `${check.name || t('room.defaultName')} · SyncTV`;
      if (check.status === 1) throw new Error(t('room.banned'));
      if (check.status === 2) throw new Error(t('room.pendingApproval'));
      if (!this.session.loggedIn && !check.enabledGuest) {
        this.roomId = null;
        needLogin();
        return;
      }
      if (this.session.loggedIn) {
        const joined = await this.joinRoom(roomId, check.needPassword);
        if (this.entering !== token) return;
        if (!joined) {
          this.roomId = null;
          location.hash = '#/rooms';
          return;
        }
        if (joined.status === 2) throw new Error(t('room.member.pending'));
        if (joined.status === 1) throw new Error(t('room.member.banned'));
      }
      await this.loadMe();
      if (this.entering !== token) return;
      clock.start().catch(() => {});
      await this.loadCurrent();
      if (this.entering !== token) return;
      this.loadPlaylist();
      this.connect();
      this.startTimers();
    } catch (e) {
      if (this.entering !== token) return;
      if (e instanceof ApiError && e.status === 403) {
        this.showMissing('forbidden', roomId, e.message);
        return;
      }
      err.textContent = e.message || String(e);
    }
  }

  /** The not-found / forbidden view in place of the room (null: the room itself). */
  showMissing(kind, roomId = '', detail = '') {
    $('room-missing').hidden = !kind;
    $('room-grid').hidden = Boolean(kind);
    $('room-share').hidden = Boolean(kind);
    if (!kind) return;
    $('guest-banner').hidden = true;
    $('room-missing').dataset.kind = kind;
    $('room-missing-title').textContent = t(kind === 'notFound' ? 'room.notFound.title' : 'room.forbidden.title');
    $('room-missing-body').textContent = kind === 'notFound' ? t('room.notFound.body', { id: roomId }) : detail;
    $('room-name').textContent = t(kind === 'notFound' ? 'room.notFound.title' : 'room.forbidden.title');
  }

  /** POST /api/room/login; prompts for the password when needed. Returns the member info or null. */
  async joinRoom(roomId, needPassword) {
    try {
      return await post('/api/room/login', { roomId, password: '' });
    } catch (e) {
      if (!(needPassword && e instanceof ApiError && e.status === 403)) {
        if (needPassword) throw e;
        return { status: 3 }; // no password: room auth creates the membership on first access
      }
    }
    const dialog = $('room-password-dialog');
    const input = $('room-join-password');
    const errEl = $('room-join-error');
    errEl.textContent = '';
    input.value = '';
    for (;;) {
      dialog.returnValue = '';
      dialog.showModal();
      input.focus();
      const result = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
      if (result !== 'join') return null;
      try {
        return await post('/api/room/login', { roomId, password: input.value });
      } catch (e) {
        errEl.textContent = e.message;
      }
    }
  }

  /** Leave the room; resolves once its socket has closed (null when there was none). */
  leave() {
    this.entering = null;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const closed = this.socket ? this.socket.stop() : null;
    this.socket = null;
    if (this.roomId) {
      this.controller.setMovie({ active: false });
      this.controller.reference = null;
      this.controller.lastApplied = null;
      this.loader.reset();
    }
    this.roomId = null;
    this.room = null;
    this.me = null;
    this.current = null;
    this.loadedKey = '';
    this.playlist = { page: 1, total: 0, folder: '', subPath: '', movies: [] };
    $('chat-log')?.replaceChildren();
    $('playlist')?.replaceChildren();
    $('room-admin').hidden = true;
    $('room-admin').open = false;
    $('ws-status').textContent = t('socket.idle');
    $('unmute-button').hidden = true;
    document.title = 'SyncTV';
    return closed;
  }

  startTimers() {
    this.timers.push(
      setInterval(() => {
        const msg = this.controller.checkStatusMessage();
        if (msg) this.send(msg);
      }, SYNC.CHECK_INTERVAL_MS),
      setInterval(() => {
        const id = this.current?.expireId;
        if (id && this.controller.active) this.send({ type: MessageType.EXPIRED, expirationId: id });
      }, 10000),
      setInterval(() => this.renderSyncInfo(), 500),
    );
  }

  // ---------------------------------------------------------------- permissions

  async loadMe() {
    try {
      this.me = await get('/api/room/me', { roomId: this.roomId });
    } catch {
      this.me = null;
    }
    const admin = this.isRoomAdmin();
    $('room-admin').hidden = !admin;
    this.renderControls();
  }

  isRoomAdmin() {
    return this.session.isSiteAdmin || (this.me?.role ?? 0) >= 2;
  }

  isCreator() {
    return this.session.isSiteAdmin || this.me?.role === 3;
  }

  can(bit) {
    if (this.isRoomAdmin()) return true;
    if (!this.me) return true; // unknown (e.g. guest): let the server decide
    return ((this.me.permissions >>> 0) & bit) === bit;
  }

  /** A permission the user holds for sure (guests: only what the room's guest bits say, when known). */
  holds(bit) {
    if (!this.session.loggedIn && !this.me) return false;
    return this.can(bit);
  }

  renderControls() {
    $('add-movie-form').hidden = !this.can(PERM.addMovie);
    for (const panel of this.libraries) {
      $(`${panel.vendor}-panel`).hidden = !this.can(PERM.addMovie);
      if (this.can(PERM.addMovie)) panel.refresh(this.roomId);
    }
    const chat = this.holds(PERM.sendChatMessage);
    const input = $('chat-form').querySelector('input');
    input.disabled = !chat;
    $('chat-send').disabled = !chat;
    const why = chat ? '' : t(this.session.loggedIn ? 'chat.disabled.perm' : 'chat.disabled.guest');
    input.placeholder = chat ? t('chat.placeholder') : why;
    $('chat-hint').textContent = why;
    $('chat-hint').hidden = chat;
    const control = this.holds(PERM.setCurrentStatus);
    $('control-hint').textContent = control ? '' : t('control.noStatus');
    $('control-hint').hidden = control;
    const movie = this.can(PERM.setCurrentMovie);
    $('stop-movie').disabled = !movie;
    $('stop-movie').title = movie ? '' : t('control.noMovie');
    $('guest-banner').hidden = this.session.loggedIn;
  }

  // ---------------------------------------------------------------- websocket

  connect() {
    const roomId = this.roomId;
    if (this.publicAddresses === undefined) {
      this.publicAddresses = [];
      get('/api/public/settings').then((s) => {
        this.publicAddresses = Array.isArray(s?.publicAddresses) ? s.publicAddresses : [];
      }).catch(() => {});
    }
    this.socket = new RoomSocket({
      roomId,
      getToken: () => auth.token,
      alternates: () => this.publicAddresses || [],
      onMessage: (msg) => this.onMessage(msg),
      onState: (state, info) => {
        const el = $('ws-status');
        el.textContent = state === 'closed' && info?.retryInMs ? t('socket.reconnecting', { seconds: Math.ceil(info.retryInMs / 1000) }) : t(`socket.${state}`);
        const base = this.socket?.base?.();
        if (state === 'open' && base && base !== location.origin) el.textContent = t('socket.via', { host: new URL(base).host });
        el.dataset.state = state;
      },
      onOpen: async (reconnect) => {
        // The server sends the room's recent chat right after every (re)connect: start the log afresh.
        $('chat-log').replaceChildren();
        if (reconnect) await this.loadCurrent();
        this.send({ type: MessageType.SYNC });
      },
      shouldReconnect: async () => {
        if (this.roomId !== roomId) return false;
        try {
          await get('/api/room/movie/current', { roomId });
          return true;
        } catch (e) {
          if (e instanceof ApiError && [401, 403, 404].includes(e.status)) {
            $('room-error').textContent = t('room.disconnected', { error: e.message });
            return false;
          }
          return true;
        }
      },
    });
    this.socket.connect();
  }

  send(msg) {
    return Boolean(this.socket?.send(msg));
  }

  onMessage(msg) {
    switch (msg.type) {
      case MessageType.VIEWER_COUNT:
        $('viewer-count').textContent = String(msg.viewerCount ?? 0);
        break;
      case MessageType.CHAT:
        this.appendChat(msg);
        break;
      case MessageType.STATUS:
      case MessageType.SYNC:
      case MessageType.CHECK_STATUS:
        if (msg.playbackStatus) {
          this.controller.applyRemote(msg.playbackStatus, Number(msg.timestamp) || 0, MessageTypeName[msg.type]);
          if (msg.type === MessageType.CHECK_STATUS) this.toast(t('sync.resynced'));
        }
        break;
      case MessageType.CURRENT:
        this.loadCurrent();
        break;
      case MessageType.MOVIES:
        this.loadPlaylist();
        break;
      case MessageType.MY_STATUS:
        this.loadMe().then(() => this.loadPlaylist());
        break;
      case MessageType.EXPIRED:
        this.loadCurrent();
        break;
      case MessageType.ERROR:
        $('room-error').textContent = msg.errorMessage || t('common.error');
        this.toast(msg.errorMessage || t('common.error'), { error: true });
        // A refused playback change needs no handling here: the server follows it with a CHECK_STATUS of the
        // room's real status, which undoes it.
        break;
      default:
        break; // WebRTC signalling is not used by this client
    }
  }

  onSyncEvent(ev) {
    if (ev.type === 'autoplay-blocked') {
      if (!this.video.muted) {
        // browsers allow muted autoplay: keep in sync silently and offer sound on a click
        this.video.muted = true;
        $('unmute-button').textContent = t('player.enableSound');
        $('unmute-button').hidden = false;
        this.controller.resumeAfterGesture();
      } else {
        $('unmute-button').textContent = t('player.start');
        $('unmute-button').hidden = false;
      }
    } else if (ev.type === 'autoplay-ok' && !this.video.muted) {
      $('unmute-button').hidden = true;
    } else if (ev.type === 'denied') {
      this.toast(t('control.denied'), { error: true });
    } else if (ev.type === 'unseekable') {
      $('player-notice').textContent = t('player.unseekable');
      $('player-notice').hidden = false;
      $('player-notice').dataset.reason = ev.reason;
    } else if (ev.type === 'metadata') {
      this.reportDuration(ev.duration);
    }
  }

  /** Tell the room the movie's length, so its clock stops at the end and the playlist can play on. */
  reportDuration(duration) {
    const id = this.current?.movie?.id;
    if (!id || !(duration > 0) || !Number.isFinite(duration) || this.current?.movie?.base?.live) return;
    if (!this.holds(PERM.setCurrentStatus)) return;
    post('/api/room/movie/duration', { id, duration }, { roomId: this.roomId }).catch(() => {});
  }

  renderSyncInfo() {
    const c = this.controller;
    const out = $('sync-info');
    if (!c.active || !c.reference) {
      out.textContent = '';
      return;
    }
    const drift = c.drift();
    const rtt = clock.rtt === null ? '?' : Math.round(clock.rtt);
    out.textContent = `${formatTime(this.video.currentTime)} · offset ${drift >= 0 ? '+' : ''}${(drift * 1000).toFixed(0)} ms · ×${this.video.playbackRate.toFixed(2)} · rtt ${rtt} ms`;
    out.dataset.driftMs = String(Math.round(drift * 1000));
  }

  // ---------------------------------------------------------------- chat

  appendChat(msg) {
    const log = $('chat-log');
    const name = msg.sender?.username || 'unknown';
    const text = unescapeHtml(msg.chatContent || '');
    const time = msg.timestamp ? new Date(Number(msg.timestamp)) : new Date();
    const li = h(
      'li',
      { dataset: { testid: 'chat-message', sender: name } },
      h('time', { datetime: time.toISOString() }, time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
      ' ',
      h('span', { class: 'chat-text' }, `${name}: ${text}`),
    );
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(li);
    while (log.children.length > CHAT_LIMIT) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // ---------------------------------------------------------------- current movie

  async loadCurrent() {
    const roomId = this.roomId;
    if (!roomId) return;
    const seq = ++this.currentSeq;
    let r;
    try {
      r = await requestFull('GET', '/api/room/movie/current', { roomId });
    } catch (e) {
      if (seq === this.currentSeq) $('room-error').textContent = e.message;
      return;
    }
    if (seq !== this.currentSeq || roomId !== this.roomId) return;
    const current = r.data || {};
    current.expireId = rawUintField(r.text, 'expireId');
    this.current = current;
    const movie = current.movie || {};
    const base = movie.base || {};
    const nowPlaying = $('now-playing');
    if (!movie.id || !base.url) {
      this.loadedKey = '';
      this.controller.setMovie({ active: false });
      this.loader.reset();
      $('live-format').hidden = true;
      nowPlaying.textContent = t('player.nothing');
      nowPlaying.dataset.movieId = '';
      this.markCurrentInPlaylist();
      return;
    }
    const key = `${movie.id}|${movie.subPath || ''}|${base.url}`;
    nowPlaying.textContent = t(base.live ? 'player.nowPlayingLive' : 'player.nowPlaying', { name: base.name || nameFromUrl(base.url) });
    nowPlaying.dataset.name = base.name || nameFromUrl(base.url);
    nowPlaying.dataset.movieId = movie.id;
    if (key !== this.loadedKey) {
      this.loadedKey = key;
      $('player-notice').hidden = true;
      $('live-format').hidden = !offersLiveChoice(base, sourceKind);
      this.controller.setMovie({ active: false });
      try {
        await this.loader.load(base);
        attachSubtitles(this.video, base.subtitles);
      } catch (e) {
        $('room-error').textContent = t('player.cannotPlay', { error: e.message });
      }
      if (seq !== this.currentSeq) return;
      this.controller.setMovie({ active: true, live: Boolean(base.live) });
    }
    const { state } = stateFromCurrent(current, r.time);
    this.controller.applyRemote(state, state.timestamp, 'current');
    this.markCurrentInPlaylist();
  }

  async setCurrent(id, subPath = '') {
    try {
      await post('/api/room/movie/current', { id, subPath }, { roomId: this.roomId });
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }

  // ---------------------------------------------------------------- playlist

  async loadPlaylist() {
    const roomId = this.roomId;
    if (!roomId) return;
    const ol = $('playlist');
    if (!this.can(PERM.getMovieList)) {
      ol.replaceChildren(h('li', { class: 'empty' }, t('playlist.hidden')));
      $('playlist-prev').disabled = true;
      $('playlist-next').disabled = true;
      $('playlist-page').textContent = '';
      return;
    }
    let data;
    try {
      data = await get('/api/room/movie/movies', {
        roomId,
        // inside a dynamic folder, `subPath` is the vendor folder below it being browsed
        query: { page: this.playlist.page, max: PLAYLIST_PAGE, id: this.playlist.folder,
                 ...(this.playlist.subPath ? { subPath: this.playlist.subPath } : {}) },
      });
    } catch (e) {
      ol.replaceChildren(h('li', { class: 'empty' }, e.message));
      return;
    }
    if (roomId !== this.roomId) return;
    let movies = data?.movies || [];
    const total = data?.total ?? movies.length;
    // tolerate servers that return the whole list instead of one page
    if (movies.length > PLAYLIST_PAGE) movies = movies.slice((this.playlist.page - 1) * PLAYLIST_PAGE, this.playlist.page * PLAYLIST_PAGE);
    const pages = Math.max(1, Math.ceil(total / PLAYLIST_PAGE));
    if (this.playlist.page > pages) {
      this.playlist.page = pages;
      this.loadPlaylist();
      return;
    }
    this.playlist.total = total;
    this.playlist.movies = movies;
    this.playlist.paths = data?.paths || [];
    this.renderPlaylist();
    $('playlist-page').textContent = t('pager.page', { page: this.playlist.page, pages });
    $('playlist-prev').disabled = this.playlist.page <= 1;
    $('playlist-next').disabled = this.playlist.page >= pages;
  }

  /** Browse a folder of the playlist: a static one, or a dynamic one at `subPath` (a vendor subfolder). */
  openFolder(id, subPath = '') {
    this.playlist.folder = id;
    this.playlist.subPath = id ? subPath : '';
    this.playlist.page = 1;
    this.loadPlaylist();
  }

  renderPlaylist() {
    const ol = $('playlist');
    const movies = this.playlist.movies;
    const items = [];
    if (this.playlist.folder) {
      const parent = (this.playlist.paths || []).slice(-2, -1)[0];
      items.push(
        h('li', { class: 'folder-up' }, h('button', {
          type: 'button',
          dataset: { testid: 'playlist-up' },
          onclick: () => this.openFolder(parent?.id || '', parent?.subPath || ''),
        }, t('playlist.upFolder'))),
      );
    }
    const canSet = this.can(PERM.setCurrentMovie);
    const canEdit = this.can(PERM.editMovie);
    const myId = this.me?.userId || this.session.user?.id;
    movies.forEach((m, i) => {
      const base = m.base || {};
      const canDelete = this.can(PERM.deleteMovie) || (myId && m.creatorId === myId);
      const label = base.name || nameFromUrl(base.url || '');
      const buttons = [];
      if (base.isFolder) {
        buttons.push(h('button', {
          type: 'button',
          dataset: { testid: 'movie-open' },
          onclick: () => this.openFolder(m.id, m.subPath || ''),
        }, t('playlist.open')));
      } else if (canSet) {
        buttons.push(h('button', { type: 'button', dataset: { testid: 'movie-play' }, 'aria-label': t('playlist.playLabel', { name: label }), onclick: () => this.setCurrent(m.id, m.subPath || '') }, t('playlist.play')));
      }
      if (canEdit) {
        buttons.push(
          h('button', { type: 'button', dataset: { testid: 'movie-up' }, 'aria-label': t('playlist.up', { name: label }), disabled: i === 0, onclick: () => this.swap(m.id, movies[i - 1]?.id) }, '↑'),
          h('button', { type: 'button', dataset: { testid: 'movie-down' }, 'aria-label': t('playlist.down', { name: label }), disabled: i === movies.length - 1, onclick: () => this.swap(m.id, movies[i + 1]?.id) }, '↓'),
        );
      }
      if (base.rtmpSource && myId && m.creatorId === myId) {
        buttons.push(h('button', { type: 'button', dataset: { testid: 'movie-publish-key' }, 'aria-label': t('playlist.publishKeyLabel', { name: label }), onclick: () => this.showPublishKey(m.id, label) }, t('playlist.publishKey')));
      }
      if (canDelete) {
        buttons.push(h('button', { type: 'button', class: 'danger', dataset: { testid: 'movie-delete' }, 'aria-label': t('playlist.deleteLabel', { name: label }), onclick: () => this.deleteMovie(m.id, label) }, t('playlist.delete')));
      }
      items.push(
        h(
          'li',
          { dataset: { movieId: m.id, testid: 'playlist-item' } },
          h('span', { class: 'movie-name' }, label),
          ' ',
          h('span', { class: 'badge' }, base.isFolder ? 'folder' : base.live ? 'live' : base.type || extOf(base.url) || sourceKind(base)),
          h('span', { class: 'movie-actions' }, buttons),
        ),
      );
    });
    if (!movies.length) items.push(h('li', { class: 'empty' }, t('playlist.empty')));
    ol.replaceChildren(...items);
    this.markCurrentInPlaylist();
  }

  markCurrentInPlaylist() {
    const id = this.current?.movie?.id || '';
    for (const li of $('playlist').querySelectorAll('li[data-movie-id]')) {
      const isCurrent = Boolean(id) && li.dataset.movieId === id;
      li.classList.toggle('current', isCurrent);
      const del = li.querySelector('[data-testid=movie-delete]');
      if (del) {
        del.disabled = isCurrent; // the server refuses to delete the current movie
        del.title = isCurrent ? t('playlist.currentNoDelete') : '';
      }
      if (isCurrent) li.setAttribute('aria-current', 'true');
      else li.removeAttribute('aria-current');
    }
  }

  /** A new publish key for an RTMP-source movie (the previous key stops working), with copy buttons. */
  async showPublishKey(id, label) {
    let data;
    try {
      data = await post('/api/room/movie/live/publishKey', { id }, { roomId: this.roomId });
    } catch (e) {
      this.toast(e.message, { error: true });
      return;
    }
    const server = `rtmp://${data.host}/${data.app}`;
    const copy = (text, what) => h('button', {
      type: 'button',
      dataset: { testid: `copy-${what}` },
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          this.toast(t(what === 'url' ? 'publish.urlCopied' : 'publish.keyCopied'));
        } catch {
          this.toast(t('common.copyFailed'), { error: true });
        }
      },
    }, t('common.copy'));
    const field = (name, value, what) => h('label', {}, name, ' ',
      h('input', { readonly: true, value, dataset: { testid: `publish-${what}` }, onfocus: (ev) => ev.target.select() }),
      copy(value, what));
    const box = h('div', { class: 'publish-key', dataset: { testid: 'publish-box' } },
      h('p', {}, t('publish.how', { name: label, server })),
      field(t('publish.server'), server, 'url'),
      field(t('publish.key'), data.token, 'key'),
      h('button', { type: 'button', onclick: () => box.remove() }, t('common.close')));
    const li = $('playlist').querySelector(`li[data-movie-id="${id}"]`);
    (li || $('playlist')).after(box);
  }

  async addMovie(ev) {
    ev.preventDefault();
    const rtmp = $('movie-rtmp').checked;
    const url = rtmp ? '' : $('movie-url').value.trim();
    if (!url && !rtmp) return;
    const body = {
      url,
      name: $('movie-name').value.trim() || (rtmp ? t('movie.liveDefaultName') : nameFromUrl(url)),
      type: rtmp ? '' : $('movie-type').value,
      live: rtmp || $('movie-live').checked,
      proxy: !rtmp && $('movie-proxy').checked,
      rtmpSource: rtmp,
      headers: parseHeaders($('movie-headers').value),
      isFolder: false,
      parentId: this.playlist.folder || '',
    };
    const btn = $('movie-add');
    btn.disabled = true;
    try {
      await post('/api/room/movie/push', body, { roomId: this.roomId });
      $('add-movie-form').reset();
      $('movie-url').required = true;
      $('movie-url').disabled = false;
      $('movie-name').placeholder = t('movie.namePlaceholder');
      this.loadPlaylist();
    } catch (e) {
      this.toast(e.message, { error: true });
      $('room-error').textContent = e.message;
    } finally {
      btn.disabled = false;
    }
  }

  async swap(id1, id2) {
    if (!id1 || !id2) return;
    try {
      await post('/api/room/movie/swap', { id1, id2 }, { roomId: this.roomId });
      this.loadPlaylist();
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }

  async deleteMovie(id, label) {
    if (!confirm(t('playlist.confirmDelete', { name: label }))) return;
    try {
      await post('/api/room/movie/delete', { ids: [id] }, { roomId: this.roomId });
      this.loadPlaylist();
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }

  // ---------------------------------------------------------------- room administration

  loadAdminPanel() {
    this.loadMembers();
    this.loadRoomSettings();
  }

  async loadMembers() {
    const tbody = $('member-list');
    let data;
    try {
      data = await get('/api/room/admin/members', {
        roomId: this.roomId,
        query: { status: $('member-status').value, page: 1, max: 100, sort: 'join', order: 'asc' },
      });
    } catch (e) {
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, e.message)));
      return;
    }
    const rows = (data?.list || []).map((m) => this.memberRow(m));
    tbody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5 }, t('members.none')))]));
  }

  memberRow(m) {
    const isCreatorRow = m.role === 3;
    const isAdminRow = m.role === 2;
    const self = m.userId === (this.me?.userId || this.session.user?.id);
    const status = $('member-status').value;
    const act = (path, label, extra = {}) =>
      h('button', {
        type: 'button',
        dataset: { testid: `member-${label.toLowerCase()}` },
        'aria-label': `${label} ${m.username}`,
        ...extra,
        onclick: async () => {
          try {
            await post(path, { id: m.userId }, { roomId: this.roomId });
            this.toast(`${label}: ${m.username}`);
            this.loadMembers();
          } catch (e) {
            this.toast(e.message, { error: true });
          }
        },
      }, label);

    // permissions: checkboxes for the 8 member bits (creator only; admins already have everything)
    const editable = this.isCreator() && !isCreatorRow && !isAdminRow;
    const flags = permissionFlags(m.permissions);
    const boxes = MEMBER_PERMISSIONS.map((p, i) =>
      h('label', { class: 'perm' }, h('input', { type: 'checkbox', checked: flags[i], disabled: !editable, dataset: { bit: String(p.bit) } }), ` ${p.label}`),
    );
    const permCell =
      isCreatorRow || isAdminRow
        ? h('td', {}, t('members.allPermissions', { role: t(`members.role.${MEMBER_ROLE[m.role]}`) }))
        : h('td', {}, h('fieldset', { class: 'perm-set' }, h('legend', { class: 'visually-hidden' }, t('members.permissionsOf', { name: m.username })), boxes));
    if (editable) {
      permCell.append(
        h('button', {
          type: 'button',
          dataset: { testid: 'member-save-permissions' },
          onclick: async () => {
            const newFlags = [...permCell.querySelectorAll('input[type=checkbox]')].map((c) => c.checked);
            const permissions = permissionsFromFlags(newFlags, m.permissions);
            try {
              await post('/api/room/admin/members/member/permissions', { id: m.userId, permissions }, { roomId: this.roomId });
              this.toast(t('members.permissionsSaved', { name: m.username }));
              this.loadMembers();
            } catch (e) {
              this.toast(e.message, { error: true });
            }
          },
        }, t('members.savePermissions')),
      );
    }

    const actions = [];
    if (!isCreatorRow && !self) {
      if (status === 'pending') actions.push(act('/api/room/admin/members/approve', t('action.approve')));
      if (status === 'banned') actions.push(act('/api/room/admin/members/unban', t('action.unban')));
      else actions.push(act('/api/room/admin/members/ban', t('action.ban')));
      actions.push(act('/api/room/admin/members/delete', t('action.remove')));
      if (this.isCreator()) {
        if (isAdminRow) {
          actions.push(h('button', {
            type: 'button',
            onclick: async () => {
              try {
                await post('/api/room/admin/members/member', { id: m.userId, permissions: 193 }, { roomId: this.roomId });
                this.loadMembers();
              } catch (e) {
                this.toast(e.message, { error: true });
              }
            },
          }, t('members.makeMember')));
        } else {
          actions.push(h('button', {
            type: 'button',
            onclick: async () => {
              try {
                await post('/api/room/admin/members/admin', { id: m.userId, adminPermissions: 31 }, { roomId: this.roomId });
                this.loadMembers();
              } catch (e) {
                this.toast(e.message, { error: true });
              }
            },
          }, t('members.makeAdmin')));
        }
      }
    }
    return h(
      'tr',
      { dataset: { userId: m.userId, testid: 'member-row' } },
      h('td', {}, m.username),
      h('td', {}, MEMBER_ROLE[m.role] ? t(`members.role.${MEMBER_ROLE[m.role]}`) : String(m.role)),
      h('td', {}, String(m.onlineCount ?? 0)),
      permCell,
      h('td', { class: 'actions' }, actions),
    );
  }

  async loadRoomSettings() {
    const box = $('room-settings-fields');
    try {
      this.roomSettings = await get('/api/room/admin/settings', { roomId: this.roomId });
    } catch (e) {
      box.replaceChildren(h('p', { class: 'error' }, e.message));
      return;
    }
    const fields = [];
    for (const [key, value] of Object.entries(this.roomSettings || {})) {
      const id = `room-setting-${key}`;
      const label = hasKey(`roomSetting.${key}`) ? t(`roomSetting.${key}`) : key.replace(/_/g, ' ');
      if (typeof value === 'boolean') {
        fields.push(h('label', { class: 'check' }, h('input', { type: 'checkbox', id, checked: value, dataset: { key } }), ` ${label}`));
      } else if (key.endsWith('_permissions') && typeof value === 'number') {
        const flags = permissionFlags(value);
        fields.push(
          h('fieldset', { class: 'perm-set', dataset: { key, perm: 'true' } }, h('legend', {}, label),
            key === 'user_default_permissions' ? [
              h('small', { class: 'setting-help', dataset: { testid: 'applies-to-new' } }, t('settings.newMembers')),
              h('button', { type: 'button', dataset: { testid: 'apply-to-all-members' }, onclick: () => this.applyDefaultsToAll() },
                t('settings.applyAll')),
            ] : '',
            MEMBER_PERMISSIONS.map((p, i) => h('label', { class: 'perm' }, h('input', { type: 'checkbox', checked: flags[i] }), ` ${t(`perm.${p.key}`)}`))),
        );
      } else if (key === 'play_mode') {
        const select = h('select', { id, dataset: { key, numeric: 'true' } },
          [0, 1, 2, 3, 4].map((m) => h('option', { value: String(m), selected: m === value }, t(`settings.playMode.${m}`))));
        fields.push(h('label', { for: id }, t('settings.playMode')), select);
      } else if (key === 'play_next_delay') {
        fields.push(h('label', { for: id }, t('settings.playNextDelay')),
          h('input', { type: 'number', id, min: '0', max: '600', step: '1', value: String(value), dataset: { key } }));
      } else if (typeof value === 'number') {
        fields.push(h('label', { for: id }, label), h('input', { type: 'number', id, value: String(value), dataset: { key } }));
      } else if (typeof value === 'string') {
        fields.push(h('label', { for: id }, label), h('input', { id, value, dataset: { key } }));
      }
    }
    box.replaceChildren(...fields);
  }

  /** The saved default permissions, given to every current plain member too. */
  async applyDefaultsToAll() {
    try {
      const r = await post('/api/room/admin/members/apply-default-permissions', {}, { roomId: this.roomId });
      this.toast(t('settings.appliedAll', { count: r?.updated ?? 0 }));
      this.loadMembers?.();
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }

  async saveRoomSettings(ev) {
    ev.preventDefault();
    const old = this.roomSettings || {};
    const changes = {};
    for (const input of $('room-settings-fields').querySelectorAll('input[data-key], select[data-key]')) {
      const key = input.dataset.key;
      const numeric = input.type === 'number' || input.dataset.numeric === 'true';
      const value = input.type === 'checkbox' ? input.checked : numeric ? Number(input.value) : input.value;
      if (value !== old[key]) changes[key] = value;
    }
    for (const fs of $('room-settings-fields').querySelectorAll('fieldset[data-perm]')) {
      const key = fs.dataset.key;
      const value = permissionsFromFlags([...fs.querySelectorAll('input')].map((c) => c.checked), old[key]);
      if (value !== old[key]) changes[key] = value;
    }
    if (!Object.keys(changes).length) {
      this.toast(t('common.nothingChanged'));
      return;
    }
    try {
      await post('/api/room/admin/settings', changes, { roomId: this.roomId });
      this.toast(t('settings.saved'));
      this.loadRoomSettings();
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }

  async saveRoomPassword(ev) {
    ev.preventDefault();
    const password = $('room-password-input').value;
    try {
      await post('/api/room/admin/pwd', { password }, { roomId: this.roomId });
      $('room-password-input').value = '';
      this.toast(t(password ? 'settings.password.set' : 'settings.password.removed'));
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }

  async deleteRoom() {
    if (!confirm(t('settings.confirmDeleteRoom'))) return;
    try {
      await post('/api/room/admin/delete', { roomId: this.roomId }, { roomId: this.roomId });
      this.toast(t('settings.roomDeleted'));
      location.hash = '#/rooms';
    } catch (e) {
      this.toast(e.message, { error: true });
    }
  }
}
