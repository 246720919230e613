// What the site-settings page says about each setting: a human label, help, a unit; which are read-only; which
// groups the server can't act on yet (hidden until it can). Settings not listed keep their name as the label.

export const GROUPS = {
  room: 'Rooms', user: 'Users and sign-up', proxy: 'Media proxy', server: 'Server', database: 'Database',
  email: 'E-mail (SMTP)', rtmp: 'Live streaming (RTMP)',
};

// Live streaming over RTMP is not served by this server yet: its settings would change nothing.
export const HIDDEN_GROUPS = new Set(['rtmp']);

export const READ_ONLY = new Set(['version', 'database_version']);

export const SETTINGS = {
  disable_create_room: { label: 'Nobody but admins may create rooms' },
  room_must_need_pwd: { label: 'Every room needs a password' },
  room_must_no_need_pwd: { label: 'Rooms may not have passwords' },
  create_room_need_review: { label: 'New rooms wait for an admin\'s approval' },
  room_ttl: { label: 'Unused rooms are closed after', unit: 'hours', min: 1 },
  disable_user_signup: { label: 'Sign-up is closed' },
  signup_need_review: { label: 'New accounts wait for an admin\'s approval' },
  enable_password_signup: { label: 'Sign-up with a username and password' },
  password_signup_need_review: { label: 'Password sign-ups wait for approval' },
  user_max_room_count: { label: 'Rooms one user may create', unit: 'rooms', help: '0 = no limit', min: 0 },
  password_min_length: { label: 'Shortest password accepted', unit: 'characters', min: 1, max: 32 },
  enable_guest: { label: 'Guests may watch without an account' },
  chat_history_max: { label: 'Chat messages kept per room', unit: 'messages', help: '0 = keep no history', min: 0, max: 1000 },
  chat_history_days: { label: 'Chat history is kept for', unit: 'days', help: '0 = no age limit', min: 0, max: 3650 },
  movie_proxy: { label: 'Videos may play through the server' },
  live_proxy: { label: 'Live streams may play through the server' },
  allow_proxy_to_local: { label: 'The proxy may reach private and local addresses', help: 'Dangerous on a public server.' },
  proxy_cache_enable: { label: 'Cache proxied media' },
  proxy_allowlist: { label: 'Private hosts the proxy may reach anyway', help: 'Comma-separated hosts or CIDRs.' },
  host: { label: 'Public address of this site', help: 'Used in links in e-mails, e.g. https://tv.example.com' },
  p2p_zone: { label: 'Peer-to-peer zone' },
  version: { label: 'Server version' },
  database_version: { label: 'Database schema version' },
  enable_email: { label: 'E-mail features (sign-up, password reset)' },
  email_disable_user_signup: { label: 'No sign-up by e-mail' },
  email_signup_need_review: { label: 'E-mail sign-ups wait for approval' },
  email_signup_white_list_enable: { label: 'Only these e-mail domains may sign up' },
  email_signup_white_list: { label: 'Allowed e-mail domains', help: 'Comma-separated.' },
  smtp_host: { label: 'SMTP server' },
  smtp_port: { label: 'SMTP port', min: 1, max: 65535 },
  smtp_protocol: { label: 'SMTP security', help: 'TLS, SSL or tcp (plain).' },
  smtp_username: { label: 'SMTP user name' },
  smtp_password: { label: 'SMTP password' },
  smtp_from: { label: 'Sender address' },
  smtp_pool_size: { label: 'SMTP connections', unit: 'connections', min: 1, max: 100 },
};

const OAUTH_FIELDS = {
  enabled: 'Enabled', client_id: 'Client ID', client_secret: 'Client secret', redirect_url: 'Redirect URL',
  disable_user_signup: 'No sign-up through this provider', signup_need_review: 'Sign-ups wait for approval',
  endpoint: 'Endpoint', issuer: 'Issuer URL', scopes: 'Scopes',
};

/** {label, help, unit, min, max} for a setting (OAuth2 provider fields by their suffix). */
export function describe(name) {
  if (SETTINGS[name]) return SETTINGS[name];
  const m = /^oauth2_(.+?)_(enabled|client_id|client_secret|redirect_url|disable_user_signup|signup_need_review|endpoint|issuer|scopes)$/.exec(name);
  if (m) return { label: OAUTH_FIELDS[m[2]] };
  if (name === 'oauth2_oidc_providers') return { label: 'OpenID Connect providers', help: 'Comma-separated names; each gets its own group.' };
  return { label: name.replace(/_/g, ' ') };
}

/** A group's heading. */
export function groupLabel(group) {
  if (GROUPS[group]) return GROUPS[group];
  const m = /^oauth2_(.+)$/.exec(group);
  return m ? `Log in with ${m[1]}` : group;
}
