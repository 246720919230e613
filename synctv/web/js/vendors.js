// The room's library panels (Alist, Emby/Jellyfin): bind a server, browse it, add files (or a whole folder, as
// a dynamic folder) to the playlist. Files are resolved by the server when played, with their subtitles.

import { get, post } from './api.js';
import { h } from './util.js';

const $ = (id) => document.getElementById(id);

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
    const crumbs = (page.paths || []).map((p) => h('button', { type: 'button', class: 'link', onclick: () => this.open(p.path) }, p.name || 'Home'));
    this.el('path').replaceChildren(...crumbs);
    const items = (page.items || []).map((item) => {
      const buttons = [];
      if (item.isDir) {
        buttons.push(h('button', { type: 'button', dataset: { testid: `${this.vendor}-open` }, onclick: () => this.open(item.path) }, 'Open'));
        buttons.push(h('button', { type: 'button', dataset: { testid: `${this.vendor}-add-folder` }, onclick: () => this.add(item, true) }, 'Add folder'));
      } else {
        buttons.push(h('button', { type: 'button', dataset: { testid: `${this.vendor}-add` }, onclick: () => this.add(item, false) }, 'Add'));
      }
      return h('li', { dataset: { testid: `${this.vendor}-item`, name: item.name } }, h('span', {}, item.isDir ? `${item.name}/` : item.name), ...buttons);
    });
    if (!items.length) items.push(h('li', { class: 'empty' }, 'Empty folder'));
    this.el('items').replaceChildren(...items);
  }

  async add(item, folder) {
    const body = { name: item.name, isFolder: folder, proxy: this.el('proxy').checked,
                   vendorInfo: { vendor: this.vendor, [this.vendor]: { path: item.path } } };
    try {
      await post('/api/room/movie/push', body, { roomId: this.roomId });
      this.toast(`Added ${item.name}`);
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
