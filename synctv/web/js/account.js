// Accounts beyond passwords: "log in with …" buttons, e-mail signup, forgotten passwords, and the account
// page (bind / unbind login providers and the e-mail address).

import { auth, get, getRaw, post } from './api.js';
import { applyStatic, t } from './i18n.js';
import { h } from './util.js';

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
  img.title = 'Click for another image';
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
      toast('A code was sent; check your mail');
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
  }

  setup() {
    applyStatic();
    this.setupProfile();
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
        this.toast('Your password was changed');
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
        this.toast('E-mail bound');
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
        this.toast('E-mail unbound');
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
      }, `Log in with ${providerLabel(name)}`)));
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
      } catch (err) {
        onError(err);
      }
    });
  }

  async loadAccount() {
    const accountError = (err) => this.showError($('account-error'), err);
    const user = this.session.user;
    $('profile-username').textContent = user?.username || '';
    $('password-form-user').value = user?.username || '';
    $('account-email').textContent = user?.email || 'none';
    $('email-unbind').hidden = !user?.email;
    const settings = this.publicSettings || (this.publicSettings = await get('/api/public/settings').catch(() => ({})));
    $('email-bind-form').hidden = !settings.emailEnable;
    if (settings.emailEnable) loadCaptcha('email-bind-captcha');
    const ul = $('provider-list');
    try {
      const providers = await getRaw('/api/user/providers');
      const names = Object.keys(providers || {});
      ul.replaceChildren(...(names.length ? names.map((name) => this.providerItem(name, providers[name]))
        : [h('li', { class: 'empty' }, 'No login providers are enabled on this site')]));
    } catch (err) {
      accountError(err);
    }
  }

  providerItem(name, binding) {
    const bound = Boolean(binding?.providerUserId);
    const action = bound
      ? h('button', { type: 'button', class: 'danger', dataset: { testid: `unbind-${name}` }, onclick: () => this.unbind(name) }, 'Unbind')
      : h('button', { type: 'button', dataset: { testid: `bind-${name}` }, onclick: () => this.bind(name) }, 'Bind');
    return h('li', { dataset: { testid: `provider-${name}`, bound: String(bound) } },
      h('span', {}, providerLabel(name), bound ? ` — bound (${binding.providerUserId})` : ' — not bound'), action);
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
      this.toast(`${providerLabel(name)} unbound`);
      this.loadAccount();
    } catch (err) {
      this.showError($('account-error'), err);
    }
  }
}
