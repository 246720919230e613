// Application shell: hash router, session, log in / sign up, room list and creation.
// Routes: #/login, #/rooms, #/room/<roomId>, #/account, #/admin (and /web/auth/reset from a reset mail)

import { ApiError, auth, get, post } from './api.js';
import { AccountUi } from './account.js';
import { AdminView } from './admin.js';
import { RoomView } from './room.js';
import { ROOM_STATUS, h } from './util.js';

const $ = (id) => document.getElementById(id);

export const session = {
  user: null, // {id, username, role, ...} from /api/user/me
  get loggedIn() {
    return Boolean(auth.token && this.user);
  },
  get isSiteAdmin() {
    return (this.user?.role ?? 0) >= 4;
  },
};

let toastTimer = null;
export function toast(message, { error = false } = {}) {
  const el = $('toast');
  el.textContent = message;
  el.classList.toggle('error', error);
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

export function showError(el, err) {
  const msg = err instanceof Error ? err.message : String(err || '');
  el.textContent = msg;
  if (msg) el.scrollIntoView?.({ block: 'nearest' });
}

// ------------------------------------------------------------------ session

async function loadMe() {
  if (!auth.token) {
    session.user = null;
    return;
  }
  try {
    session.user = await get('/api/user/me');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) auth.token = '';
    session.user = null;
  }
}

function renderUserArea() {
  const u = session.user;
  $('current-user').textContent = u ? `${u.username}` : '';
  $('nav-login').hidden = Boolean(u);
  $('logout-button').hidden = !u;
  $('nav-admin-item').hidden = !session.isSiteAdmin;
  $('nav-account-item').hidden = !u;
}

async function acceptToken(resp) {
  if (!resp?.token) {
    // banned / pending accounts get {message, role} and no token
    throw new Error(resp?.message || (resp?.role === 2 ? 'Your account is pending approval' : 'Login refused'));
  }
  auth.token = resp.token;
  $('login-form').reset();
  $('signup-form').reset();
  await loadMe();
  renderUserArea();
  const back = sessionStorage.getItem('synctv.afterLogin');
  sessionStorage.removeItem('synctv.afterLogin');
  location.hash = back || '#/rooms';
}

function setupAuthForms() {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError($('auth-error'), '');
    const btn = $('login-submit');
    btn.disabled = true;
    try {
      const resp = await post('/api/user/login', {
        username: $('login-username').value.trim(),
        password: $('login-password').value,
      });
      await acceptToken(resp);
    } catch (err) {
      showError($('auth-error'), err);
    } finally {
      btn.disabled = false;
    }
  });
  $('signup-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError($('auth-error'), '');
    const btn = $('signup-submit');
    btn.disabled = true;
    try {
      const resp = await post('/api/user/signup', {
        username: $('signup-username').value.trim(),
        password: $('signup-password').value,
      });
      await acceptToken(resp);
    } catch (err) {
      showError($('auth-error'), err);
    } finally {
      btn.disabled = false;
    }
  });
  $('logout-button').addEventListener('click', async () => {
    const hadToken = auth.token;
    roomView.leave();
    if (hadToken) {
      try {
        await post('/api/user/logout');
      } catch {
        // the local token is forgotten anyway
      }
    }
    auth.token = '';
    session.user = null;
    renderUserArea();
    location.hash = '#/login';
  });
}

// ------------------------------------------------------------------ room list

const roomList = { page: 1, max: 10, keyword: '', total: 0 };

function roomItem(r) {
  const status = ROOM_STATUS[r.status] || '';
  return h(
    'li',
    { class: 'room-item', dataset: { roomId: r.roomId, testid: 'room-item' } },
    h('a', { href: `#/room/${r.roomId}`, class: 'room-link', dataset: { testid: 'room-link' } }, r.roomName),
    ' ',
    r.needPassword ? h('span', { class: 'badge', title: 'Password protected' }, '🔒 password') : null,
    status && status !== 'active' ? h('span', { class: 'badge' }, status) : null,
    h(
      'span',
      { class: 'room-sub' },
      `by ${r.creator || 'unknown'} · ${r.viewerCount ?? 0} watching`,
    ),
    h('a', { href: `#/room/${r.roomId}`, class: 'button', dataset: { testid: 'join-room' } }, 'Join'),
  );
}

async function loadRoomList() {
  const ul = $('room-list');
  showError($('rooms-error'), '');
  try {
    const data = await get('/api/room/list', {
      query: { page: roomList.page, max: roomList.max, keyword: roomList.keyword, search: 'all', sort: 'createdAt', order: 'desc' },
    });
    roomList.total = data?.total ?? 0;
    const list = data?.list || [];
    ul.replaceChildren(...(list.length ? list.map(roomItem) : [h('li', { class: 'empty' }, 'No rooms found')]));
    const pages = Math.max(1, Math.ceil(roomList.total / roomList.max));
    $('room-list-page').textContent = `Page ${roomList.page} of ${pages}`;
    $('room-list-prev').disabled = roomList.page <= 1;
    $('room-list-next').disabled = roomList.page >= pages;
  } catch (err) {
    showError($('rooms-error'), err);
  }
}

async function loadHotRooms() {
  const ul = $('hot-room-list');
  try {
    const data = await get('/api/room/hot', { query: { page: 1, max: 10 } });
    const list = data?.list || [];
    ul.replaceChildren(...(list.length ? list.map(roomItem) : [h('li', { class: 'empty' }, 'Nobody is watching right now')]));
  } catch (err) {
    ul.replaceChildren(h('li', { class: 'empty' }, `Unavailable: ${err.message}`));
  }
}

function setupRoomList() {
  $('room-search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    roomList.keyword = $('room-search').value.trim();
    roomList.page = 1;
    loadRoomList();
  });
  $('room-list-prev').addEventListener('click', () => {
    roomList.page = Math.max(1, roomList.page - 1);
    loadRoomList();
  });
  $('room-list-next').addEventListener('click', () => {
    roomList.page += 1;
    loadRoomList();
  });
  $('create-room-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError($('rooms-error'), '');
    if (!session.loggedIn) {
      sessionStorage.setItem('synctv.afterLogin', '#/rooms');
      location.hash = '#/login';
      return;
    }
    const btn = $('create-room-submit');
    btn.disabled = true;
    try {
      const data = await post('/api/room/create', {
        roomName: $('create-room-name').value.trim(),
        password: $('create-room-password').value,
        settings: { hidden: $('create-room-hidden').checked },
      });
      $('create-room-form').reset();
      if (data?.status === 2) {
        toast('Room created; it is waiting for approval by an administrator');
        loadRoomList();
      } else {
        location.hash = `#/room/${data.roomId}`;
      }
    } catch (err) {
      showError($('rooms-error'), err);
    } finally {
      btn.disabled = false;
    }
  });
  $('join-room-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    // An invite link or a bare id; anything else gets a sentence, not the browser's "match the format".
    const raw = $('join-room-id').value.trim();
    const m = /(?:#\/room\/)?([0-9a-fA-F]{32})\/?$/.exec(raw);
    $('join-room-hint').textContent = m ? '' : 'A room ID is 32 letters and digits (0-9, a-f), as in an invite link.';
    if (m) location.hash = `#/room/${m[1].toLowerCase()}`;
  });
}

// ------------------------------------------------------------------ router

const views = ['view-auth', 'view-rooms', 'view-room', 'view-account', 'view-admin'];
const roomView = new RoomView({ session, toast });
const adminView = new AdminView({ toast });
const accountUi = new AccountUi({
  session, toast, showError, acceptToken: (resp) => acceptToken(resp),
  reloadMe: async () => {
    await loadMe();
    renderUserArea();
  },
});

function show(viewId) {
  for (const v of views) $(v).hidden = v !== viewId;
  document.body.dataset.view = viewId;
}

async function route() {
  const hash = location.hash || '#/rooms';
  const parts = hash.replace(/^#\/?/, '').split('/');
  const name = parts[0] || 'rooms';
  if (name !== 'room') roomView.leave();
  renderUserArea();

  if (name === 'login' || location.pathname.endsWith('/auth/reset')) {
    show('view-auth');
    showError($('auth-error'), '');
    $('login-username').focus();
    accountUi.enterLogin(sessionStorage.getItem('synctv.afterLogin'));
    return;
  }
  if (name === 'account') {
    if (!session.loggedIn) {
      sessionStorage.setItem('synctv.afterLogin', hash);
      location.hash = '#/login';
      return;
    }
    show('view-account');
    showError($('account-error'), '');
    accountUi.loadAccount();
    return;
  }
  if (name === 'room' && parts[1]) {
    show('view-room');
    await roomView.enter(parts[1].toLowerCase(), {
      needLogin: () => {
        sessionStorage.setItem('synctv.afterLogin', hash);
        location.hash = '#/login';
      },
    });
    return;
  }
  if (name === 'admin') {
    if (!session.isSiteAdmin) {
      location.hash = session.loggedIn ? '#/rooms' : '#/login';
      return;
    }
    show('view-admin');
    adminView.load();
    return;
  }
  show('view-rooms');
  loadRoomList();
  loadHotRooms();
}

async function main() {
  setupAuthForms();
  setupRoomList();
  roomView.setup();
  adminView.setup();
  accountUi.setup();
  await loadMe();
  renderUserArea();
  if (!auth.token && !location.hash && !location.pathname.endsWith('/auth/reset')) {
    history.replaceState(null, '', '#/login');
  }
  window.addEventListener('hashchange', route);
  await route();
  document.body.dataset.ready = 'true';
}

main();
