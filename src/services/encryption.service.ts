import { config } from '../config/env';
import { createKeyring, decryptText, encryptText, generateKey, type Keyring } from '../utils/crypto';
import { logger } from '../utils/logger';
import { loadOrCreateSecretFile } from '../utils/secret-file';

const DEV_KEY_FILE = 'dev-encryption.key';

/** The development key under `dir` (see loadOrCreateSecretFile): data written without a DATA_ENCRYPTION_KEY stays readable. */
export function loadOrCreateDevKey(dir: string): { key: string; created: boolean; file: string } {
  const { value, created, file } = loadOrCreateSecretFile(dir, DEV_KEY_FILE, generateKey);
  return { key: value, created, file };
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
