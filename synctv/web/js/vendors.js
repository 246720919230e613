// The room's library panels (Alist, Emby/Jellyfin): bind a server, browse it, add files (or a whole folder, as
// a dynamic folder) to the playlist. Files are resolved by the server when played, with their subtitles.
// The account page's library card binds and unbinds servers outside any room.

import { t } from './i18n.js';
import { get, post } from './api.js';
import { h } from './util.js';

const $ = (id) => document.getElementById(id);
export const VENDORS = Object.freeze(['alist', 'emby']);

/** The account page's bindings: each vendor's bound servers (with Unbind) and a form to bind another one. */
export class VendorAccounts {
  constructor({ toast, showError }) {
    this.toast = toast;
    this.showError = showError;
  }

  wire() {
    for (const vendor of VENDORS) {
      $(`account-${vendor}-form`).addEventListener('submit', (ev) => this.bind(ev, vendor));
    }
  }

  async load() {
    this.showError($('libraries-error'), '');
    await Promise.all(VENDORS.map((vendor) => this.list(vendor)));
  }

  async list(vendor) {
    let binds;
    try {
      binds = await get(`/api/vendor/${vendor}/binds`);
    } catch (e) {
      this.showError($('libraries-error'), e);
      return;
    }
    const rows = (binds || []).map((b) => h('li', { dataset: { testid: `account-${vendor}-bound`, host: b.host } },
      h('span', {}, b.host), ' ',
      h('button', { type: 'button', class: 'danger', dataset: { testid: `account-${vendor}-unbind` },
                    'aria-label': `${t('libraries.unbind')} ${b.host}`, onclick: () => this.unbind(vendor, b) },
        t('libraries.unbind'))));
    if (!rows.length) rows.push(h('li', { class: 'empty' }, t('libraries.none')));
    $(`account-${vendor}-binds`).replaceChildren(...rows);
  }

  async bind(ev, vendor) {
    ev.preventDefault();
    const host = $(`account-${vendor}-host`).value.trim();
    const body = { host, username: $(`account-${vendor}-username`).value.trim(),
                   password: $(`account-${vendor}-password`).value };
    try {
      await post(`/api/vendor/${vendor}/login`, body);
    } catch (e) {
      this.showError($('libraries-error'), e);
      return;
    }
    $(`account-${vendor}-form`).reset();
    this.showError($('libraries-error'), '');
    this.toast(t('libraries.bound', { host }));
    await this.list(vendor);
  }

  async unbind(vendor, bound) {
    try {
      await post(`/api/vendor/${vendor}/logout`, { serverId: bound.serverId });
    } catch (e) {
      this.showError($('libraries-error'), e);
      return;
    }
    this.toast(t('libraries.unbound', { host: bound.host }));
    await this.list(vendor);
  }
}

export class VendorPanel {
  /** `vendor`: 'alist' or 'emby'; the panel's elements are `<vendor>-bind-form`, `<vendor>-items`, ... */
  constructor({ vendor, roomId, onAdded, toast }) {
    this.vendor = vendor;
    this.roomId = roomId;
    this.onAdded = onAdded;
    this.toast = toast;
    this.path = '';
  }

  el(suffix) {
    return $(`${this.vendor}-${suffix}`);
  }

  wire() {
    this.el('bind-form').addEventListener('submit', (ev) => this.bind(ev));
  }

  /** Show the panel for a room (once per room: the controls are re-rendered often). */
  async refresh(roomId) {
    if (roomId === this.roomId && this.shown) return;
    this.roomId = roomId;
    this.shown = true;
    await this.reload();
  }

  async reload() {
    let binds = [];
    try {
      binds = await get(`/api/vendor/${this.vendor}/binds`);
    } catch {
      binds = [];
    }
    this.el('bind-form').hidden = binds.length > 0;
    this.el('browser').hidden = binds.length === 0;
    if (binds.length) await this.open('');
  }

  async bind(ev) {
    ev.preventDefault();
    const body = { host: this.el('host').value.trim(), username: this.el('username').value.trim(),
                   password: this.el('password').value };
    try {
      await post(`/api/vendor/${this.vendor}/login`, body);
      this.el('bind-form').reset();
      await this.reload();
    } catch (e) {
      this.el('error').textContent = e.message;
    }
  }

  async open(path) {
    let page;
    try {
      page = await post(`/api/vendor/${this.vendor}/list`, { path }, { query: { max: 100 } });
    } catch (e) {
      this.el('error').textContent = e.message;
      return;
    }
    this.el('error').textContent = '';
    this.path = path;
    const crumbs = (page.paths || []).map((p) => h('button', { type: 'button', class: 'link', onclick: () => this.open(p.path) }, p.name || t('vendor.home')));
    this.el('path').replaceChildren(...crumbs);
    const items = (page.items || []).map((item) => {
      const buttons = [];
      if (item.isDir) {
        buttons.push(h('button', { type: 'button', dataset: { testid: `${this.vendor}-open` }, onclick: () => this.open(item.path) }, t('vendor.open')));
        buttons.push(h('button', { type: 'button', dataset: { testid: `${this.vendor}-add-folder` }, onclick: () => this.add(item, true) }, t('vendor.addFolder')));
      } else {
        buttons.push(h('button', { type: 'button', dataset: { testid: `${this.vendor}-add` }, onclick: () => this.add(item, false) }, t('vendor.add')));
      }
      return h('li', { dataset: { testid: `${this.vendor}-item`, name: item.name } }, h('span', {}, item.isDir ? `${item.name}/` : item.name), ...buttons);
    });
    if (!items.length) items.push(h('li', { class: 'empty' }, t('vendor.empty')));
    this.el('items').replaceChildren(...items);
  }

  async add(item, folder) {
    const body = { name: item.name, isFolder: folder, proxy: this.el('proxy').checked,
                   vendorInfo: { vendor: this.vendor, [this.vendor]: { path: item.path } } };
    try {
      await post('/api/room/movie/push', body, { roomId: this.roomId });
      this.toast(t('vendor.added', { name: item.name }));
      this.onAdded();
    } catch (e) {
      this.el('error').textContent = e.message;
    }
  }
}

/** SubRip to WebVTT: the timestamps' comma becomes a dot, and the header is added. */
export function srtToVtt(text) {
  const body = text.replace(/\r\n?/g, '\n').replace(/(\d\d:\d\d:\d\d),(\d\d\d)/g, '$1.$2');
  return body.startsWith('WEBVTT') ? body : `WEBVTT\n\n${body}`;
}

/** Replace the video's text tracks with the movie's subtitles (fetched, converted to WebVTT, as blob URLs). */
export async function attachSubtitles(video, subtitles) {
  for (const track of [...video.querySelectorAll('track')]) {
    URL.revokeObjectURL(track.src);
    track.remove();
  }
  let first = true;
  for (const [name, sub] of Object.entries(subtitles || {})) {
    if (!sub?.url) continue;
    try {
      const resp = await fetch(new URL(sub.url, location.href), { credentials: 'omit' });
      if (!resp.ok) continue;
      const vtt = srtToVtt(await resp.text());
      const track = document.createElement('track');
      track.kind = 'subtitles';
      track.label = name;
      track.src = URL.createObjectURL(new Blob([vtt], { type: 'text/vtt' }));
      track.default = first;
      first = false;
      video.append(track);
    } catch {
      // one unreachable subtitle does not stop the others
    }
  }
}
