import { expect } from '@jest/globals';
import request from 'supertest';

// Every response any test receives through supertest is checked here: no password, no hash, no stored
// token material may ever leave the service (SPEC §2). Refresh tokens may appear only where they are issued,
// and so may a webhook's signing secret (shown once, when created or rotated).

const forbiddenKeys = /^(password|password_hash|current_password|hash|token_hash|.*_hash|secret|jwt_secret)$/i;
const issuesRefreshTokens = /^\/(user|customer)\/signin$|^\/auth\/refresh$/;
const issuesWebhookSecrets = /^\/webhooks(\/[0-9a-f]{24}\/rotate-secret)?$/;
const bcryptHash = /\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}/;

interface Allowed {
  refresh: boolean;
  webhookSecret: boolean;
}

function findSecrets(value: unknown, path: string, allowed: Allowed, found: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => findSecrets(item, `${path}[${index}]`, allowed, found));
    return;
  }
  if (typeof value === 'string') {
    if (bcryptHash.test(value)) found.push(`${path} holds a bcrypt hash`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, item] of Object.entries(value)) {
    const issuedSecret = key === 'secret' && allowed.webhookSecret && path === '$' && typeof item === 'string' && item.startsWith('whsec_');
    if (forbiddenKeys.test(key) && !issuedSecret) found.push(`${path}.${key}`);
    if (key === 'refresh_token' && !allowed.refresh) found.push(`${path}.${key}`);
    findSecrets(item, `${path}.${key}`, allowed, found);
  }
}

export function secretsIn(body: unknown, requestPath: string): string[] {
  const found: string[] = [];
  findSecrets(body, '$', { refresh: issuesRefreshTokens.test(requestPath), webhookSecret: issuesWebhookSecrets.test(requestPath) }, found);
  return found;
}

type AssertFn = (error: Error | null, res: request.Response, fn: (err: Error | null, res: request.Response) => void) => void;
const Test = Object.getPrototypeOf(request('http://127.0.0.1').get('/')) as { assert: AssertFn; url: string };
const originalAssert = Test.assert;
Test.assert = function assertWithoutSecrets(this: { url: string }, error, res, fn) {
  if (res) {
    const path = new URL(this.url).pathname;
    const text = res.text ?? '';
    let body: unknown = res.body;
    if (res.type === 'text/csv' || res.type === 'application/x-ndjson') body = text;
    const leaks = secretsIn(body, path);
    if (bcryptHash.test(text) && !leaks.length) leaks.push('a bcrypt hash in the raw body');
    expect({ path, leaks }).toEqual({ path, leaks: [] });
  }
  originalAssert.call(this, error, res, fn);
};
