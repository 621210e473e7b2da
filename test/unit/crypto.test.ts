import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadOrCreateDevKey } from '../../src/services/encryption.service';
import { createKeyring, decryptText, DecryptionError, encryptText, generateKey, keyIdOf } from '../../src/utils/crypto';
import { dateBuckets } from '../../src/utils/date-buckets';

const oldKey = generateKey();
const newKey = generateKey();
const before = createKeyring({ id: 'k0', key: oldKey });
const context = 'interaction:66d3d83afff6681e0956ca2d:notes';

describe('field encryption (AES-256-GCM)', () => {
  it('round-trips, stores the key id, and never repeats a ciphertext for the same text', () => {
    const first = encryptText('Wants a 10% discount', before, context);
    const second = encryptText('Wants a 10% discount', before, context);
    expect(first).toMatch(/^enc:v1:k0:[\w-]{16}:[\w-]{22}:[\w-]+$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain('discount');
    expect(keyIdOf(first)).toBe('k0');
    expect(decryptText(first, before, context)).toBe('Wants a 10% discount');
    expect(decryptText(encryptText('', before, context), before, context)).toBe('');
  });

  it('still reads values written under a retired key after rotation, and writes new ones under the new key', () => {
    const written = encryptText('signed in 2023', before, context);
    const rotated = createKeyring({ id: 'k1', key: newKey }, { k0: oldKey });
    expect(decryptText(written, rotated, context)).toBe('signed in 2023');
    const fresh = encryptText('signed in 2024', rotated, context);
    expect(keyIdOf(fresh)).toBe('k1');
    expect(() => decryptText(fresh, before, context)).toThrow(/unknown encryption key id "k1"/);
  });

  it('refuses a tampered value, another context, a re-labelled key id, and text that is not ciphertext', () => {
    const stored = encryptText('secret', before, context);
    const parts = stored.split(':');
    const body = Buffer.from(parts[5]!, 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    const tampered = [...parts.slice(0, 5), body.toString('base64url')].join(':');
    const sameKeyOtherId = createKeyring({ id: 'k9', key: oldKey }, { k0: oldKey });
    const relabelled = ['enc', 'v1', 'k9', ...parts.slice(3)].join(':');
    expect(() => decryptText(tampered, before, context)).toThrow(DecryptionError);
    expect(() => decryptText(stored, before, 'interaction:66d3d83afff6681e0956ca2d:outcome')).toThrow(DecryptionError);
    expect(() => decryptText(relabelled, sameKeyOtherId, context)).toThrow(DecryptionError);
    expect(() => decryptText('secret in clear', before, context)).toThrow(/not in the enc:v1 format/);
  });

  it('refuses keys that are not 32 bytes and one id naming two keys', () => {
    expect(() => createKeyring({ id: 'k1', key: Buffer.alloc(16).toString('base64') })).toThrow(/32 bytes/);
    expect(() => createKeyring({ id: 'k1', key: newKey }, { k1: oldKey })).toThrow(/two different keys/);
  });
});

describe('development key file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is created once with mode 0600 and read back unchanged afterwards', () => {
    const first = loadOrCreateDevKey(path.join(dir, 'data'));
    expect(first.created).toBe(true);
    expect(Buffer.from(first.key, 'base64')).toHaveLength(32);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateDevKey(path.join(dir, 'data'));
    expect(second).toEqual({ ...first, created: false });
  });
});

describe('date buckets', () => {
  it.each([
    ['2024-09-02T10:00:00Z', { day: '2024-09-02', week: '2024-W36', month: '2024-09' }],
    // ISO week-years differ from calendar years around New Year.
    ['2024-12-30T00:00:00Z', { day: '2024-12-30', week: '2025-W01', month: '2024-12' }],
    ['2021-01-03T23:59:59Z', { day: '2021-01-03', week: '2020-W53', month: '2021-01' }],
    ['2026-01-01T00:00:00Z', { day: '2026-01-01', week: '2026-W01', month: '2026-01' }],
  ])('buckets %s in UTC', (iso, expected) => {
    expect(dateBuckets(new Date(iso))).toEqual(expected);
  });
});
