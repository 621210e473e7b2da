import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Field encryption at rest (SPEC §6): AES-256-GCM with a random 96-bit nonce per value. A stored value is one
// string, so it fits any String field and survives export/import untouched:
//
//   enc:v1:<key id>:<nonce, base64url>:<auth tag, base64url>:<ciphertext, base64url>
//
// The `enc:v1:<key id>` header and a caller-given context (e.g. "interaction:<id>:notes") are bound in as
// additional authenticated data, so a value cannot be re-labelled with another key id, nor copied into another
// field or record, without failing authentication. These functions are pure: they take the keyring, so tests
// can encrypt under one key and decrypt after a rotation without touching the process configuration.

const PREFIX = 'enc';
const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface Keyring {
  /** Key id written with every new value. */
  currentId: string;
  /** Every key that may still be read, current one included. */
  keys: ReadonlyMap<string, Buffer>;
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

function decodeKey(id: string, base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`encryption key ${id} must be ${KEY_BYTES} bytes`);
  return key;
}

/** Builds a keyring from the current key and the former keys still needed to read old values (all base64). */
export function createKeyring(current: { id: string; key: string }, oldKeys: Readonly<Record<string, string>> = {}): Keyring {
  const keys = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(oldKeys)) keys.set(id, decodeKey(id, key));
  const currentKey = decodeKey(current.id, current.key);
  const clash = keys.get(current.id);
  if (clash && !clash.equals(currentKey)) throw new Error(`key id ${current.id} names two different keys`);
  keys.set(current.id, currentKey);
  return { currentId: current.id, keys };
}

export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(`${PREFIX}:${VERSION}:`);
}

function additionalData(keyId: string, context: string): Buffer {
  return Buffer.from(`${PREFIX}:${VERSION}:${keyId}|${context}`, 'utf8');
}

/** Encrypts `plain` under the keyring's current key, bound to `context`. */
export function encryptText(plain: string, keyring: Keyring, context: string): string {
  const key = keyring.keys.get(keyring.currentId);
  if (!key) throw new Error(`the current key ${keyring.currentId} is not in the keyring`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(keyring.currentId, context));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const parts = [nonce, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
  return [PREFIX, VERSION, keyring.currentId, ...parts].join(':');
}

/** Key id a stored value was written under (to find values that still need re-encryption after a rotation). */
export function keyIdOf(stored: string): string | undefined {
  return isEncrypted(stored) ? stored.split(':')[2] : undefined;
}

/**
 * Decrypts a value written by `encryptText` with any key of the keyring. Throws DecryptionError when the value
 * is not in the format, names an unknown key, or fails authentication (tampered, or another context).
 */
export function decryptText(stored: string, keyring: Keyring, context: string): string {
  const parts = stored.split(':');
  if (parts.length !== 6 || parts[0] !== PREFIX || parts[1] !== VERSION) {
    throw new DecryptionError('value is not in the enc:v1 format');
  }
  const [, , keyId = '', nonceText = '', tagText = '', bodyText = ''] = parts;
  const key = keyring.keys.get(keyId);
  if (!key) throw new DecryptionError(`unknown encryption key id "${keyId}": list it in DATA_ENCRYPTION_OLD_KEYS`);
  const nonce = Buffer.from(nonceText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError('malformed nonce or tag');
  try {
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(keyId, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError('authentication failed: wrong key, wrong context or tampered value');
  }
}
