import test from 'node:test';
import assert from 'node:assert/strict';

import { missingKeys, setLanguage, t } from './i18n.js';

test('every language has every key', () => {
  assert.deepEqual(missingKeys(), []);
});

test('placeholders are filled and unknown keys fall back', () => {
  setLanguage('en');
  assert.match(t('room.notFound.body', { id: 'abc' }), /no room abc/);
  setLanguage('zh');
  assert.match(t('room.notFound.body', { id: 'abc' }), /abc/);
  assert.equal(t('no.such.key'), 'no.such.key');
  setLanguage('xx');
  assert.match(t('room.share.copy'), /复制/, 'an unknown language keeps the current one');
  setLanguage('en');
});
