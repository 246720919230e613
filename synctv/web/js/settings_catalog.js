// What the site-settings page says about each setting: a human label, help, a unit; which are read-only; which
// groups the server can't act on yet (hidden until it can). Settings not listed keep their name as the label.

import { t } from './i18n.js';

export const GROUPS = ['room', 'user', 'proxy', 'server', 'database', 'email', 'rtmp'];

// Live streaming over RTMP is not served by this server yet: its settings would change nothing.
export const HIDDEN_GROUPS = new Set(['rtmp']);

export const READ_ONLY = new Set(['version', 'database_version']);

// Labels are `site.<name>` in i18n.js, help `site.<name>.help` (when `help`), units `unit.<unit>`.
export const SETTINGS = {
  disable_create_room: {},
  room_must_need_pwd: {},
  room_must_no_need_pwd: {},
  create_room_need_review: {},
  room_ttl: { unit: 'hours', min: 1 },
  disable_user_signup: {},
  signup_need_review: {},
  enable_password_signup: {},
  password_signup_need_review: {},
  user_max_room_count: { help: true, unit: 'rooms', min: 0 },
  password_min_length: { unit: 'characters', min: 1, max: 32 },
  enable_guest: {},
  chat_history_max: { help: true, unit: 'messages', min: 0, max: 1000 },
  chat_history_days: { help: true, unit: 'days', min: 0, max: 3650 },
  movie_proxy: {},
  live_proxy: {},
  allow_proxy_to_local: { help: true },
  proxy_cache_enable: {},
  proxy_allowlist: { help: true },
  host: { help: true },
  p2p_zone: {},
  version: {},
  database_version: {},
  enable_email: {},
  email_disable_user_signup: {},
  email_signup_need_review: {},
  email_signup_white_list_enable: {},
  email_signup_white_list: { help: true },
  smtp_host: {},
  smtp_port: { min: 1, max: 65535 },
  smtp_protocol: { help: true },
  smtp_username: {},
  smtp_password: {},
  smtp_from: {},
  smtp_pool_size: { unit: 'connections', min: 1, max: 100 },
};

/** {label, help, unit, min, max} for a setting (OAuth2 provider fields by their suffix), in the reader's language. */
export function describe(name) {
  const d = SETTINGS[name];
  if (d) {
    return { ...d, label: t(`site.${name}`), help: d.help ? t(`site.${name}.help`) : '', unit: d.unit ? t(`unit.${d.unit}`) : '' };
  }
  const m = /^oauth2_(.+?)_(enabled|client_id|client_secret|redirect_url|disable_user_signup|signup_need_review|endpoint|issuer|scopes)$/.exec(name);
  if (m) return { label: t(`site.oauth2.${m[2]}`) };
  if (name === 'oauth2_oidc_providers') return { label: t('site.oauth2_oidc_providers'), help: t('site.oauth2_oidc_providers.help') };
  return { label: name.replace(/_/g, ' ') };
}

/** A group's heading. */
export function groupLabel(group) {
  if (GROUPS.includes(group)) return t(`site.group.${group}`);
  const m = /^oauth2_(.+)$/.exec(group);
  return m ? t('site.group.oauth2', { name: m[1] }) : group;
}
