import { createHmac, randomBytes } from 'node:crypto';
import type { WebhookEndpointRecord } from '../../models/webhook-endpoint.model';
import { openText, sealText } from '../encryption.service';

// Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of 32 random
// bytes; a signature is `v1,` + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")), one per
// secret still signing, separated by spaces, so a receiver holding either the old or the new secret accepts
// a delivery during a rotation's grace period. HMAC from node:crypto: three lines, no dependency; the tests
// verify with the `standardwebhooks` package.

const PREFIX = 'whsec_';

export function generateSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The AES-GCM context binding a sealed secret to its endpoint (a sealed value moved elsewhere fails to open). */
function sealContext(endpointId: string): string {
  return `webhook-secret:${endpointId}`;
}

export function sealSecret(secret: string, endpointId: string): string {
  return sealText(secret, sealContext(endpointId));
}

/** The secrets that sign now: the current one and any rotated-out one still in its grace period. */
export function signingSecrets(endpoint: Pick<WebhookEndpointRecord, '_id' | 'secrets'>, now = Date.now()): string[] {
  return endpoint.secrets
    .filter((s) => !s.expires_at || s.expires_at.getTime() > now)
    .map((s) => openText(s.sealed, sealContext(endpoint._id.toHexString())));
}

export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}
