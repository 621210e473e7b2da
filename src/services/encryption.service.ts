import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { config } from '../config/env';
import { createKeyring, decryptText, encryptText, generateKey, type Keyring } from '../utils/crypto';
import { logger } from '../utils/logger';

const DEV_KEY_FILE = 'dev-encryption.key';

// Duck-typed: errors from Node's fs are not always `instanceof Error` of the caller's realm (jest's vm).
function isErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/**
 * The development key under `dir`, created (mode 0600) on first use. Data written by `npm start` without a
 * DATA_ENCRYPTION_KEY must stay readable after a restart, so a per-process random key would not do. The
 * exclusive create makes two processes starting together agree on one key.
 */
export function loadOrCreateDevKey(dir: string): { key: string; created: boolean; file: string } {
  const file = path.resolve(dir, DEV_KEY_FILE);
  try {
    return { key: readFileSync(file, 'utf8').trim(), created: false, file };
  } catch (error) {
    if (!isErrorCode(error, 'ENOENT')) throw error;
  }
  mkdirSync(dir, { recursive: true });
  const key = generateKey();
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, created: true, file };
  } catch (error) {
    if (!isErrorCode(error, 'EEXIST')) throw error;
    return { key: readFileSync(file, 'utf8').trim(), created: false, file };
  }
}

let keyring: Keyring | undefined;

/** The process keyring: DATA_ENCRYPTION_KEY (+ old keys), or outside production the persisted development key. */
export function dataKeyring(): Keyring {
  if (keyring) return keyring;
  const { key, keyId, oldKeys } = config.encryption;
  if (key) {
    keyring = createKeyring({ id: keyId, key }, oldKeys);
    return keyring;
  }
  // env.ts already refuses to start in production without a key; this is development or test only.
  const dev = loadOrCreateDevKey(config.db.dataDir);
  logger.warn(
    { file: dev.file, created: dev.created },
    'DATA_ENCRYPTION_KEY is not set: encrypting sensitive fields with a development key kept on disk (never use this in production)',
  );
  keyring = createKeyring({ id: keyId, key: dev.key }, oldKeys);
  return keyring;
}

export function sealText(plain: string, context: string): string {
  return encryptText(plain, dataKeyring(), context);
}

export function openText(stored: string, context: string): string {
  return decryptText(stored, dataKeyring(), context);
}
