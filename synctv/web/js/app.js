// Application shell: hash router, session, log in / sign up, room list and creation.
// Routes: #/login, #/rooms, #/room/<roomId>, #/account, #/admin (and /web/auth/reset from a reset mail)

import { ApiError, auth, get, post } from './api.js';
import { AccountUi } from './account.js';
import { AdminView } from './admin.js';
import { RoomView } from './room.js';
import { t } from './i18n.js';
import { PERM, ROOM_STATUS, h } from './util.js';

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
    throw new Error(resp?.message || (resp?.role === 2 ? t('auth.pending') : t('auth.refused')));
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
    r.needPassword ? h('span', { class: 'badge', title: t('rooms.item.passwordTitle') }, t('rooms.item.password')) : null,
    status && status !== 'active' ? h('span', { class: 'badge' }, t(`room.status.${status}`)) : null,
    h(
      'span',
      { class: 'room-sub' },
      t('rooms.item.by', { creator: r.creator || t('rooms.item.unknownCreator'), count: r.viewerCount ?? 0 }),
    ),
    h('a', { href: `#/room/${r.roomId}`, class: 'button', dataset: { testid: 'join-room' } }, t('rooms.item.join')),
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
    ul.replaceChildren(...(list.length ? list.map(roomItem) : [h('li', { class: 'empty' }, t('rooms.none'))]));
    const pages = Math.max(1, Math.ceil(roomList.total / roomList.max));
    $('room-list-page').textContent = t('pager.page', { page: roomList.page, pages });
    $('room-list-prev').disabled = roomList.page <= 1;
    $('room-list-next').disabled = roomList.page >= pages;
  } catch (err) {
    showError($('rooms-error'), err);
  }
}

// "Popular now" is refreshed while the list is shown: people come and go.
const HOT_REFRESH_MS = 10000;
const HOT_AFTER_LEAVE_MS = 300;
let hotTimer = null;

function startHotRefresh() {
  stopHotRefresh();
  hotTimer = setInterval(() => {
    if (document.body.dataset.view === 'view-rooms' && !document.hidden) loadHotRooms();
  }, HOT_REFRESH_MS);
}

function stopHotRefresh() {
  if (hotTimer) clearInterval(hotTimer);
  hotTimer = null;
}

async function loadHotRooms() {
  const ul = $('hot-room-list');
  try {
    const data = await get('/api/room/hot', { query: { page: 1, max: 10 } });
    const list = data?.list || [];
    ul.replaceChildren(...(list.length ? list.map(roomItem) : [h('li', { class: 'empty' }, t('rooms.hot.none'))]));
  } catch (err) {
    ul.replaceChildren(h('li', { class: 'empty' }, t('common.unavailable', { error: err.message })));
  }
}

/** New members of the room may play, pause and seek (the server's default, as upstream's, is watch and chat). */
async function letMembersControl(roomId) {
  try {
    const current = await get('/api/room/admin/settings', { roomId });
    const bits = Number(current?.user_default_permissions) | PERM.setCurrentStatus;
    await post('/api/room/admin/settings', { user_default_permissions: bits }, { roomId });
  } catch (err) {
    toast(t('rooms.create.membersControl.failed', { error: err.message }));
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
      const membersControl = $('create-room-members-control').checked;
      $('create-room-form').reset();
      if (data?.status === 2) {
        toast(t('rooms.create.pending'));
        loadRoomList();
      } else {
        if (membersControl) await letMembersControl(data.roomId);
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
  const left = name !== 'room' ? roomView.leave() : null;
  if (name !== 'rooms') stopHotRefresh();
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
  startHotRefresh();
  // Counts asked for while our own socket was still closing would still count us: ask again once it's gone
  // (and the server had a moment to count the leave).
  if (left) {
    left.then(() => setTimeout(() => {
      if (document.body.dataset.view === 'view-rooms') {
        loadRoomList();
        loadHotRooms();
      }
    }, HOT_AFTER_LEAVE_MS));
  }
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
