import { describe, expect, it } from '@jest/globals';
import { duplicateKeyChanges, duplicateKeysFor, emailKey, nameKey, phoneKey } from '../../src/utils/duplicate-keys';

// The keys the duplicate rules compare (README "Duplicates"), with the default region (IN).
describe('phoneKey', () => {
  it.each([
    ['+49 30 1234567', '+49301234567'],
    ['0049 30 1234567', '+49301234567'],
    ['+91 35636621762', '+9135636621762'],
    ['098450 00001', '+919845000001'], // national, read in the default region IN
    ['12345678901234567890', '12345678901234567890'], // impossible anywhere: its digits
  ])('%s → %s', (phone, key) => {
    expect(phoneKey(phone)).toBe(key);
  });

  it.each(['', '123456', '12 34 56', '+1 234', null, undefined])('has no key below 7 digits: %p', (phone) => {
    expect(phoneKey(phone)).toBeUndefined();
  });
});

describe('emailKey', () => {
  it.each([
    ['J.Doe+x@gmail.com', 'jdoe@gmail.com'],
    ['jdoe@googlemail.com', 'jdoe@gmail.com'],
    ['J.Doe@Example.com', 'j.doe@example.com'],
    ['j.doe+tag@example.com', 'j.doe+tag@example.com'], // tags count outside gmail
    ['+only@gmail.com', '+only@gmail.com'], // nothing left of the local part: kept as it is
  ])('%s → %s', (email, key) => {
    expect(emailKey(email)).toBe(key);
  });
});

describe('nameKey and duplicateKeysFor', () => {
  it('joins the collapsed, lower-cased name and company with U+0000, and has no key without a company', () => {
    expect(nameKey('  Ada   LOVELACE ', 'analytical  engines')).toBe('ada lovelace\u0000analytical engines');
    expect(nameKey('Ada', undefined)).toBeUndefined();
    expect(nameKey('Ada', '')).toBeUndefined();
  });

  it('leaves absent keys out, and the changes unset them', () => {
    expect(duplicateKeysFor({ name: 'Ada', email: 'ada@example.com' })).toEqual({ email_key: 'ada@example.com' });
    expect(duplicateKeyChanges({ name: 'Ada', email: 'ada@example.com', phone: '12' })).toEqual({
      set: { email_key: 'ada@example.com' },
      unset: { phone_key: '', name_key: '' },
    });
  });
});
