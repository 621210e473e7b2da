import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Duck-typed: errors from Node's fs are not always `instanceof Error` of the caller's realm (jest's vm).
function isErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/**
 * A development secret kept in `dir/name`, created (mode 0600) with `generate()` on first use, so what a
 * development process signs or encrypts stays valid after a restart. The exclusive create makes two processes
 * starting together agree on one value.
 */
export function loadOrCreateSecretFile(
  dir: string,
  name: string,
  generate: () => string,
): { value: string; created: boolean; file: string } {
  const file = path.resolve(dir, name);
  try {
    return { value: readFileSync(file, 'utf8').trim(), created: false, file };
  } catch (error) {
    if (!isErrorCode(error, 'ENOENT')) throw error;
  }
  mkdirSync(dir, { recursive: true });
  const value = generate();
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, created: true, file };
  } catch (error) {
    if (!isErrorCode(error, 'EEXIST')) throw error;
    return { value: readFileSync(file, 'utf8').trim(), created: false, file };
  }
}
