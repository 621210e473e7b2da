import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { startServer } from '../helpers/server-process';

// Outside production, with no JWT_SECRET, the generated secret is kept in DATA_DIR (beside the development
// encryption key): a restart — `npm run dev` reloading — must not sign everyone out.

async function signIn(base: string): Promise<string> {
  const res = await fetch(`${base}/user/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'dev@example.com', password: 'a development password' }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string };
  return body.token;
}

async function me(base: string, token: string): Promise<number> {
  return (await fetch(`${base}/me`, { headers: { token } })).status;
}

describe('JWT_SECRET unset in development', () => {
  it('keeps the generated secret in DATA_DIR, so a token stays valid across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'crm-dev-secret-'));
    const env = {
      NODE_ENV: 'development',
      JWT_SECRET: undefined,
      DATA_DIR: dataDir,
      MONGODB_URI: uriWithDb(testMongoUri(), uniqueDbName('dev_secret')),
      ADMIN_EMAIL: 'dev@example.com',
      ADMIN_PASSWORD: 'a development password',
    };
    const first = await startServer(env);
    let token: string;
    try {
      token = await signIn(`http://127.0.0.1:${first.port}`);
      expect(await me(`http://127.0.0.1:${first.port}`, token)).toBe(200);
      expect(first.output()).toContain('signing with a development secret kept in');
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    const file = path.join(dataDir, 'dev-jwt.secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = await startServer(env);
    try {
      expect(await me(`http://127.0.0.1:${second.port}`, token)).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});
