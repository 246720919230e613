// Accounts beyond passwords: "log in with …" buttons, e-mail signup, forgotten passwords, and the account
// page (bind / unbind login providers, the e-mail address and media library servers).

import { auth, get, getRaw, post } from './api.js';
import { applyStatic, t } from './i18n.js';
import { deviceName, h } from './util.js';
import { VendorAccounts } from './vendors.js';

const $ = (id) => document.getElementById(id);

const PROVIDER_NAMES = {
  github: 'GitHub', gitee: 'Gitee', gitlab: 'GitLab', google: 'Google', microsoft: 'Microsoft',
  discord: 'Discord', qq: 'QQ', baidu: 'Baidu', 'baidu-netdisk': 'Baidu Netdisk', xiaomi: 'Xiaomi',
  casdoor: 'Casdoor', logto: 'Logto',
};

export function providerLabel(name) {
  return PROVIDER_NAMES[name] || name.charAt(0).toUpperCase() + name.slice(1);
}

/** Where the browser should come back to after a provider: a path of this site. */
function backTo(hash) {
  return `/web/${hash || '#/rooms'}`;
}

async function loadCaptcha(imgId) {
  const img = $(imgId);
  try {
    const data = await get(img.dataset.captchaPath);
    img.src = data.captchaBase64;
    img.dataset.captchaId = data.captchaId;
  } catch {
    img.removeAttribute('src');
  }
}

function captchaFields(imgId, answerId) {
  return { captchaId: $(imgId).dataset.captchaId || '', answer: $(answerId).value.trim() };
}

function wireCaptcha(imgId, path) {
  const img = $(imgId);
  img.dataset.captchaPath = path;
  img.title = t('captcha.another');
  img.addEventListener('click', () => loadCaptcha(imgId));
}

/**
 * Wire a "send code" button: posts {email, captchaId, answer} and always refreshes the (single-use) captcha.
 */
function wireSendCode({ buttonId, emailId, imgId, answerId, path, onError, toast }) {
  $(buttonId).addEventListener('click', async () => {
    onError('');
    const btn = $(buttonId);
    btn.disabled = true;
    try {
      await post(path, { email: $(emailId).value.trim(), ...captchaFields(imgId, answerId) });
      toast(t('email.codeSent'));
    } catch (err) {
      onError(err);
    } finally {
      btn.disabled = false;
      $(answerId).value = '';
      loadCaptcha(imgId);
    }
  });
}

export class AccountUi {
  constructor({ session, toast, showError, acceptToken, reloadMe }) {
    this.session = session;
    this.toast = toast;
    this.showError = showError;
    this.acceptToken = acceptToken;
    this.reloadMe = reloadMe;
    this.publicSettings = null;
    this.libraries = new VendorAccounts({ toast, showError });
  }

  setup() {
    applyStatic();
    this.setupProfile();
    this.libraries.wire();
    const authError = (err) => this.showError($('auth-error'), err);
    const accountError = (err) => this.showError($('account-error'), err);
    wireCaptcha('email-signup-captcha', '/api/user/signup/email/captcha');
    wireCaptcha('reset-captcha', '/api/user/retrieve/email/captcha');
    wireCaptcha('email-bind-captcha', '/api/user/bind/email/captcha');
    wireSendCode({ buttonId: 'email-signup-send', emailId: 'email-signup-email', imgId: 'email-signup-captcha',
      answerId: 'email-signup-answer', path: '/api/user/signup/email/captcha', onError: authError, toast: this.toast });
    wireSendCode({ buttonId: 'reset-send', emailId: 'reset-email', imgId: 'reset-captcha',
      answerId: 'reset-answer', path: '/api/user/retrieve/email/captcha', onError: authError, toast: this.toast });
    wireSendCode({ buttonId: 'email-bind-send', emailId: 'email-bind-email', imgId: 'email-bind-captcha',
      answerId: 'email-bind-answer', path: '/api/user/bind/email/captcha', onError: accountError, toast: this.toast });

    $('email-signup-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      authError('');
      try {
        const resp = await post('/api/user/signup/email', {
          email: $('email-signup-email').value.trim(),
          captcha: $('email-signup-code').value.trim(),
          password: $('email-signup-password').value,
        });
        $('email-signup-form').reset();
        await this.acceptToken(resp);
      } catch (err) {
        authError(err);
      }
    });
    $('reset-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      authError('');
      try {
        const resp = await post('/api/user/retrieve/email', {
          email: $('reset-email').value.trim(),
          captcha: $('reset-code').value.trim(),
          password: $('reset-password').value,
        });
        $('reset-form').reset();
        this.toast(t('reset.done'));
        if (location.pathname.endsWith('/auth/reset')) history.replaceState(null, '', '/web/');
        await this.acceptToken(resp);
      } catch (err) {
        authError(err);
      }
    });
    $('email-bind-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      accountError('');
      try {
        await post('/api/user/bind/email', {
          email: $('email-bind-email').value.trim(),
          captcha: $('email-bind-code').value.trim(),
        });
        $('email-bind-form').reset();
        this.toast(t('email.bound'));
        await this.reloadMe();
        this.loadAccount();
      } catch (err) {
        accountError(err);
      }
    });
    $('email-unbind').addEventListener('click', async () => {
      accountError('');
      try {
        await post('/api/user/unbind/email');
        this.toast(t('email.unbound'));
        await this.reloadMe();
        this.loadAccount();
      } catch (err) {
        accountError(err);
      }
    });
  }

  /** The login page: provider buttons and the e-mail forms the site settings allow. */
  async enterLogin(afterLogin) {
    // The link in a password-reset mail: /web/auth/reset?captcha=<code>&email=<address>
    if (location.pathname.endsWith('/auth/reset')) {
      const q = new URLSearchParams(location.search);
      $('reset-email').value = q.get('email') || '';
      $('reset-code').value = q.get('captcha') || '';
      $('reset-password').focus();
    }
    const settings = this.publicSettings || (this.publicSettings = await get('/api/public/settings').catch(() => ({})));
    const row = $('oauth2-buttons');
    try {
      const { enabled = [] } = (await getRaw('/oauth2/enabled')) || {};
      row.replaceChildren(...enabled.map((name) => h('a', {
        class: 'button',
        href: `/oauth2/login/${encodeURIComponent(name)}?redirect=${encodeURIComponent(backTo(afterLogin))}`,
        dataset: { testid: `oauth2-login-${name}` },
      }, t('login.with', { provider: providerLabel(name) }))));
      $('oauth2-login').hidden = enabled.length === 0;
    } catch {
      $('oauth2-login').hidden = true;
    }
    const email = Boolean(settings.emailEnable);
    $('email-forms').hidden = !email;
    $('email-signup-form').hidden = !email || Boolean(settings.emailDisableSignup);
    if (email) {
      if (!$('email-signup-form').hidden) loadCaptcha('email-signup-captcha');
      loadCaptcha('reset-captcha');
    }
  }

  setupProfile() {
    const onError = (err) => this.showError($('account-error'), err);
    $('username-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      onError('');
      try {
        await post('/api/user/username', { username: $('profile-new-username').value.trim() });
        $('username-form').reset();
        await this.reloadMe();
        $('profile-username').textContent = this.session.user?.username || '';
        this.toast(t('profile.username.saved'));
      } catch (err) {
        onError(err);
      }
    });
    $('password-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      onError('');
      const password = $('profile-new-password').value;
      if (password !== $('profile-confirm-password').value) {
        onError(t('profile.password.mismatch'));
        return;
      }
      try {
        // The answer is a new token: the old one (and every other session) stops working.
        const resp = await post('/api/user/password', { password, oldPassword: $('profile-old-password').value });
        if (resp?.token) auth.token = resp.token;
        $('password-form').reset();
        await this.reloadMe();
        this.toast(t('profile.password.saved'));
        $('password-form').dataset.changed = 'true';
        this.loadSessions();
      } catch (err) {
        onError(err);
      }
    });
    $('sessions-revoke-others').addEventListener('click', async () => {
      onError('');
      try {
        const { ended } = await post('/api/user/sessions/revoke-others');
        this.toast(t('profile.sessions.ended', { count: ended }));
        this.loadSessions();
      } catch (err) {
        onError(err);
      }
    });
  }

  async loadSessions() {
    const ul = $('session-list');
    try {
      const { list = [] } = await get('/api/user/sessions');
      const when = (unix) => new Date(unix * 1000).toLocaleString();
      const items = list.map((s) => h('li', { dataset: { testid: 'session-item', current: String(Boolean(s.current)) } },
        h('span', { class: 'session-device' }, deviceName(s.userAgent) || t('profile.sessions.unknownDevice')),
        s.current ? h('span', { class: 'badge', dataset: { testid: 'session-current' } }, t('profile.sessions.current')) : null,
        h('span', { class: 'room-sub' }, `${t('profile.sessions.created', { time: when(s.createdAt) })} · `
          + t('profile.sessions.lastSeen', { time: when(s.lastSeenAt) })),
        s.current ? null : h('button', { type: 'button', class: 'danger', dataset: { testid: 'session-revoke' },
          onclick: () => this.revokeSession(s.id) }, t('profile.sessions.revoke'))));
      if (list.length <= 1) items.push(h('li', { class: 'empty' }, t('profile.sessions.none')));
      ul.replaceChildren(...items);
      $('sessions-revoke-others').disabled = list.length <= 1;
    } catch (err) {
      this.showError($('account-error'), err);
    }
  }

  async revokeSession(id) {
    try {
      await post('/api/user/sessions/revoke', { id });
      this.toast(t('profile.sessions.revoked'));
    } catch (err) {
      this.showError($('account-error'), err);
    }
    this.loadSessions();
  }

  async loadAccount() {
    const accountError = (err) => this.showError($('account-error'), err);
    const user = this.session.user;
    $('profile-username').textContent = user?.username || '';
    $('password-form-user').value = user?.username || '';
    $('account-email').textContent = user?.email || t('email.none');
    $('email-unbind').hidden = !user?.email;
    const settings = this.publicSettings || (this.publicSettings = await get('/api/public/settings').catch(() => ({})));
    $('email-bind-form').hidden = !settings.emailEnable;
    if (settings.emailEnable) loadCaptcha('email-bind-captcha');
    this.libraries.load();
    this.loadSessions();
    const ul = $('provider-list');
    try {
      const providers = await getRaw('/api/user/providers');
      const names = Object.keys(providers || {});
      ul.replaceChildren(...(names.length ? names.map((name) => this.providerItem(name, providers[name]))
        : [h('li', { class: 'empty' }, t('providers.none'))]));
    } catch (err) {
      accountError(err);
    }
  }

  providerItem(name, binding) {
    const bound = Boolean(binding?.providerUserId);
    const action = bound
      ? h('button', { type: 'button', class: 'danger', dataset: { testid: `unbind-${name}` }, onclick: () => this.unbind(name) }, t('providers.unbind'))
      : h('button', { type: 'button', dataset: { testid: `bind-${name}` }, onclick: () => this.bind(name) }, t('providers.bind'));
    return h('li', { dataset: { testid: `provider-${name}`, bound: String(bound) } },
      h('span', {}, providerLabel(name), bound ? t('providers.bound', { id: binding.providerUserId }) : t('providers.notBound')), action);
  }

  async bind(name) {
    try {
      const { url } = await post(`/oauth2/bind/${encodeURIComponent(name)}`, { redirect: backTo('#/account') });
      location.href = url;
    } catch (err) {
      this.showError($('account-error'), err);
    }
  }

  async unbind(name) {
    try {
      await post(`/oauth2/unbind/${encodeURIComponent(name)}`);
      this.toast(t('providers.unbound', { provider: providerLabel(name) }));
      this.loadAccount();
    } catch (err) {
      this.showError($('account-error'), err);
    }
  }
}
