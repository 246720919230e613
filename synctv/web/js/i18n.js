// Interface strings by key, in English and Chinese. `t(key, vars)` picks the reader's language (the
// browser's, or ?lang= / localStorage 'synctv.lang'); `applyStatic()` fills elements marked data-i18n.
// Strings still written inline elsewhere move here as they are touched.

const STRINGS = {
  en: {
    'room.guest': 'You are watching as a guest. Guests can watch; chat and playback control need an account.',
    'room.guest.login': 'Log in or sign up',
    'room.share': 'Invite',
    'room.share.copy': 'Copy link',
    'room.share.copied': 'Link copied',
    'room.share.copyFailed': 'Copy failed; select the link and copy it',
    'room.share.passwordHint': 'This room has a password: send it to your friends separately.',
    'room.notFound.title': 'Room not found',
    'room.notFound.body': 'There is no room {id}. It may have been deleted, or the link is mistyped.',
    'room.forbidden.title': 'You cannot enter this room',
    'room.back': 'Back to the room list',
    'player.unseekable': "This source can't seek (its host doesn't support Range requests): it plays from its start and follows only play and pause.",
    'chat.disabled.guest': 'Guests cannot chat: log in to join the conversation.',
    'chat.disabled.perm': 'You may not send messages in this room.',
    'control.noStatus': 'Playback is controlled by the room: you may not play, pause or seek here.',
    'control.noMovie': 'Only members allowed to choose the video may stop it.',
    'playlist.hidden': 'You may not view the playlist',
    'profile.title': 'Profile',
    'profile.signedInAs': 'Signed in as',
    'profile.username': 'New username',
    'profile.username.save': 'Change username',
    'profile.username.saved': 'Username changed',
    'profile.password.current': 'Current password',
    'profile.password.new': 'New password',
    'profile.password.confirm': 'Repeat the new password',
    'profile.password.save': 'Change password',
    'profile.password.saved': 'Password changed; your other sessions were signed out',
    'profile.password.mismatch': 'The two new passwords differ',
    'profile.sessions': 'Changing the password signs out every other session. A list of sessions will appear here when the server offers one.',
    'settings.newMembers': 'Applies to members who join from now on; existing members keep their permissions.',
    'settings.applyAll': 'Also apply to all current members',
    'settings.playMode': 'When a video ends',
    'settings.playMode.0': 'Stop',
    'settings.playMode.1': 'Play the next video',
    'settings.playMode.2': 'Repeat this video',
    'settings.playMode.3': 'Play the list in a loop',
    'settings.playMode.4': 'Shuffle',
    'settings.playNextDelay': 'Pause before the next video (seconds)',
  },
  zh: {
    'room.guest': '你正在以游客身份观看。游客可以观看；聊天和控制播放需要登录账号。',
    'room.guest.login': '登录或注册',
    'room.share': '邀请',
    'room.share.copy': '复制链接',
    'room.share.copied': '链接已复制',
    'room.share.copyFailed': '复制失败，请手动选择并复制链接',
    'room.share.passwordHint': '此房间设有密码，请另行告知好友。',
    'room.notFound.title': '房间不存在',
    'room.notFound.body': '没有编号为 {id} 的房间。它可能已被删除，或链接有误。',
    'room.forbidden.title': '你无法进入此房间',
    'room.back': '返回房间列表',
    'player.unseekable': '此视频源无法跳转（其服务器不支持 Range 请求）：将从头播放，只跟随播放和暂停。',
    'chat.disabled.guest': '游客不能聊天：登录后即可参与。',
    'chat.disabled.perm': '你没有在此房间发送消息的权限。',
    'control.noStatus': '播放由房间控制：你不能在此播放、暂停或跳转。',
    'control.noMovie': '只有可以选择视频的成员才能停止播放。',
    'playlist.hidden': '你没有查看播放列表的权限',
    'profile.title': '个人资料',
    'profile.signedInAs': '当前登录',
    'profile.username': '新用户名',
    'profile.username.save': '修改用户名',
    'profile.username.saved': '用户名已修改',
    'profile.password.current': '当前密码',
    'profile.password.new': '新密码',
    'profile.password.confirm': '再次输入新密码',
    'profile.password.save': '修改密码',
    'profile.password.saved': '密码已修改，其他会话已退出登录',
    'profile.password.mismatch': '两次输入的新密码不一致',
    'profile.sessions': '修改密码会让其他所有会话退出登录。服务器提供会话列表后，将在此显示。',
    'settings.newMembers': '仅对今后加入的成员生效；现有成员保留原有权限。',
    'settings.applyAll': '同时应用到所有现有成员',
    'settings.playMode': '视频结束时',
    'settings.playMode.0': '停止',
    'settings.playMode.1': '播放下一个视频',
    'settings.playMode.2': '单个循环',
    'settings.playMode.3': '列表循环',
    'settings.playMode.4': '随机播放',
    'settings.playNextDelay': '播放下一个视频前的间隔（秒）',
  },
};

export const LANGUAGES = Object.keys(STRINGS);

function pickLanguage() {
  let wanted = '';
  try {
    wanted = new URLSearchParams(location.search).get('lang') || localStorage.getItem('synctv.lang') || '';
  } catch {
    wanted = '';
  }
  const candidates = [wanted, ...(globalThis.navigator?.languages || [])].map((l) => String(l).toLowerCase());
  for (const c of candidates) {
    const base = c.split('-')[0];
    if (STRINGS[base]) return base;
  }
  return 'en';
}

export let lang = typeof location === 'undefined' ? 'en' : pickLanguage();

export function setLanguage(value) {
  if (STRINGS[value]) lang = value;
}

/** The string for `key` in the reader's language (English when missing), with {name} placeholders filled. */
export function t(key, vars = {}) {
  const text = STRINGS[lang]?.[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Fill every element with data-i18n="key" (its text) under `root`. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

/** Both languages define the same keys (checked by the unit tests). */
export function missingKeys() {
  const en = Object.keys(STRINGS.en);
  return LANGUAGES.flatMap((l) => en.filter((k) => !(k in STRINGS[l])).map((k) => `${l}:${k}`));
}
