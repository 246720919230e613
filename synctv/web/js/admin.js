// Site administration (role >= admin): users, rooms, global settings.

import { t } from './i18n.js';
import { get, post } from './api.js';
import { HIDDEN_GROUPS, READ_ONLY, describe, groupLabel } from './settings_catalog.js';
import { ROOM_STATUS, USER_ROLE, h } from './util.js';

const $ = (id) => document.getElementById(id);
const PAGE = 20;

export class AdminView {
  constructor({ toast }) {
    this.toast = toast;
    this.users = { page: 1, total: 0 };
    this.rooms = { page: 1, total: 0 };
    this.settings = {};
  }

  setup() {
    $('admin-user-search').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.users.page = 1;
      this.loadUsers();
    });
    $('admin-user-prev').addEventListener('click', () => {
      this.users.page = Math.max(1, this.users.page - 1);
      this.loadUsers();
    });
    $('admin-user-next').addEventListener('click', () => {
      this.users.page += 1;
      this.loadUsers();
    });
    $('admin-room-search').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.rooms.page = 1;
      this.loadRooms();
    });
    $('admin-room-prev').addEventListener('click', () => {
      this.rooms.page = Math.max(1, this.rooms.page - 1);
      this.loadRooms();
    });
    $('admin-room-next').addEventListener('click', () => {
      this.rooms.page += 1;
      this.loadRooms();
    });
    $('admin-settings-form').addEventListener('submit', (ev) => this.saveSettings(ev));
    $('admin-test-mail-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const email = $('admin-test-mail').value.trim();
      try {
        await post('/api/admin/email/test', email ? { email } : {});
        this.toast(t('admin.mail.sent'));
      } catch (e) {
        this.fail(e);
      }
    });
  }

  load() {
    $('admin-error').textContent = '';
    this.loadUsers();
    this.loadRooms();
    this.loadSettings();
  }

  fail(e) {
    $('admin-error').textContent = e.message;
    this.toast(e.message, { error: true });
  }

  action(path, id, label, name, reload) {
    return h('button', {
      type: 'button',
      dataset: { testid: `admin-${label.toLowerCase()}` },
      'aria-label': `${label} ${name}`,
      onclick: async () => {
        if (label === t('action.delete') && !confirm(t('admin.confirmDelete', { name }))) return;
        try {
          await post(path, { id });
          this.toast(`${label}: ${name}`);
          reload();
        } catch (e) {
          this.fail(e);
        }
      },
    }, label);
  }

  pager(prefix, state) {
    const pages = Math.max(1, Math.ceil(state.total / PAGE));
    $(`${prefix}-page`).textContent = t('pager.page', { page: state.page, pages });
    $(`${prefix}-prev`).disabled = state.page <= 1;
    $(`${prefix}-next`).disabled = state.page >= pages;
  }

  async loadUsers() {
    const tbody = $('admin-user-list');
    let data;
    try {
      data = await get('/api/admin/user/list', {
        query: {
          page: this.users.page,
          max: PAGE,
          keyword: $('admin-user-keyword').value.trim(),
          role: $('admin-user-role').value,
          search: 'all',
          sort: 'createdAt',
          order: 'desc',
        },
      });
    } catch (e) {
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 4 }, e.message)));
      return;
    }
    this.users.total = data?.total ?? 0;
    const reload = () => this.loadUsers();
    const rows = (data?.list || []).map((u) => {
      const actions = [];
      if (u.role === 2) actions.push(this.action('/api/admin/user/approve', u.id, t('action.approve'), u.username, reload));
      if (u.role === 1) actions.push(this.action('/api/admin/user/unban', u.id, t('action.unban'), u.username, reload));
      else if (u.role < 5) actions.push(this.action('/api/admin/user/ban', u.id, t('action.ban'), u.username, reload));
      return h(
        'tr',
        { dataset: { userId: u.id, testid: 'admin-user-row' } },
        h('td', {}, u.username),
        h('td', {}, USER_ROLE[u.role] ? t(`user.role.${USER_ROLE[u.role]}`) : String(u.role)),
        h('td', {}, u.createdAt ? new Date(u.createdAt).toLocaleString() : ''),
        h('td', { class: 'actions' }, actions),
      );
    });
    tbody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4 }, t('admin.users.none')))]));
    this.pager('admin-user', this.users);
  }

  async loadRooms() {
    const tbody = $('admin-room-list');
    let data;
    try {
      data = await get('/api/admin/room/list', {
        query: {
          page: this.rooms.page,
          max: PAGE,
          keyword: $('admin-room-keyword').value.trim(),
          status: $('admin-room-status').value,
          search: 'all',
          sort: 'createdAt',
          order: 'desc',
        },
      });
    } catch (e) {
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, e.message)));
      return;
    }
    this.rooms.total = data?.total ?? 0;
    const reload = () => this.loadRooms();
    const rows = (data?.list || []).map((r) => {
      const actions = [];
      if (r.status === 2) actions.push(this.action('/api/admin/room/approve', r.roomId, t('action.approve'), r.roomName, reload));
      if (r.status === 1) actions.push(this.action('/api/admin/room/unban', r.roomId, t('action.unban'), r.roomName, reload));
      else actions.push(this.action('/api/admin/room/ban', r.roomId, t('action.ban'), r.roomName, reload));
      actions.push(this.action('/api/admin/room/delete', r.roomId, t('action.delete'), r.roomName, reload));
      return h(
        'tr',
        { dataset: { roomId: r.roomId, testid: 'admin-room-row' } },
        h('td', {}, h('a', { href: `#/room/${r.roomId}` }, r.roomName)),
        h('td', {}, r.creator || ''),
        h('td', {}, ROOM_STATUS[r.status] ? t(`room.status.${ROOM_STATUS[r.status]}`) : String(r.status)),
        h('td', {}, String(r.viewerCount ?? 0)),
        h('td', { class: 'actions' }, actions),
      );
    });
    tbody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5 }, t('admin.rooms.none')))]));
    this.pager('admin-room', this.rooms);
  }

  async loadSettings() {
    const box = $('admin-settings-fields');
    let data;
    try {
      data = await get('/api/admin/settings');
    } catch (e) {
      box.replaceChildren(h('p', { class: 'error' }, e.message));
      return;
    }
    this.settings = {};
    const groups = [];
    for (const [group, values] of Object.entries(data || {})) {
      if (!values || typeof values !== 'object' || HIDDEN_GROUPS.has(group)) continue;
      const fields = [];
      for (const [name, value] of Object.entries(values)) {
        this.settings[name] = value;
        const id = `admin-setting-${name}`;
        const d = describe(name);
        const help = [d.help, d.unit ? t('admin.setting.unit', { unit: d.unit }) : ''].filter(Boolean).join(' · ');
        const helpEl = help ? h('small', { class: 'setting-help' }, help) : '';
        if (READ_ONLY.has(name)) {
          fields.push(h('p', { dataset: { testid: `setting-${name}` } }, `${d.label}: `,
            h('output', { class: 'setting-readonly', id }, String(value ?? ''))));
        } else if (typeof value === 'boolean') {
          fields.push(h('label', { class: 'check' }, h('input', { type: 'checkbox', id, checked: value, dataset: { name } }), ` ${d.label}`), helpEl);
        } else if (typeof value === 'number') {
          fields.push(h('label', { for: id }, d.label), h('input', {
            type: 'number', id, value: String(value), step: '1', min: d.min ?? undefined, max: d.max ?? undefined,
            dataset: { name },
          }), helpEl);
        } else {
          const secret = /password|secret|token/i.test(name);
          fields.push(h('label', { for: id }, d.label), h('input', { id, type: secret ? 'password' : 'text', autocomplete: 'off', value: String(value ?? ''), dataset: { name } }), helpEl);
        }
      }
      const legend = h('legend', {}, groupLabel(group));
      if (group.startsWith('oauth2_')) {
        // Twelve providers of six fields each: folded, open only where the provider is enabled.
        const open = Boolean(values[`${group}_enabled`]);
        groups.push(h('details', { class: 'settings-group', open, dataset: { group } }, h('summary', {}, groupLabel(group)), fields));
      } else {
        groups.push(h('fieldset', { class: 'settings-group', dataset: { group } }, legend, fields));
      }
    }
    box.replaceChildren(...groups);
  }

  async saveSettings(ev) {
    ev.preventDefault();
    const changes = {};
    for (const input of $('admin-settings-fields').querySelectorAll('input[data-name]')) {
      const name = input.dataset.name;
      const old = this.settings[name];
      if (input.type === 'number' && !input.checkValidity()) {
        this.fail(new Error(`${describe(name).label}: ${input.validationMessage}`));
        return;
      }
      const value = input.type === 'checkbox' ? input.checked : input.type === 'number' ? Number(input.value) : input.value;
      if (value !== old) changes[name] = value;
    }
    if (!Object.keys(changes).length) {
      this.toast(t('common.nothingChanged'));
      return;
    }
    try {
      await post('/api/admin/settings', changes);
      this.toast(t('admin.settings.saved', { count: Object.keys(changes).length }));
      this.loadSettings();
    } catch (e) {
      this.fail(e);
    }
  }
}
