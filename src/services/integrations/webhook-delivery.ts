import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { config } from '../../config/env';
import { OutboxMessage, type OutboxRecord } from '../../models/outbox.model';
import { WebhookEndpoint, type WebhookEndpointRecord } from '../../models/webhook-endpoint.model';
import { webhookDisabled } from '../notifications';
import { pinnedLookup, resolveTarget, type ResolvedTarget } from './webhook-address';
import { forgetSubscribers, openPayload } from './webhook-events';
import { signatureHeader, signingSecrets } from './webhook-signing';

// One attempt of one webhook delivery, run by the outbox worker under its claim (services/outbox.worker.ts):
// re-read the endpoint (deleted or disabled: the delivery is dropped as failed), check and pin its address,
// sign, POST with a timeout and without following redirects, then record the outcome. 2xx: delivered. 410
// Gone: the receiver asks to stop, so the endpoint is disabled. Anything else (another status, a redirect,
// a refused address, a network error, the timeout) is a failed attempt: retried with doubling delays until
// the message's max_attempts (~24 h of retries), and counted on the endpoint, which is disabled after
// WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row. A disabled endpoint's ADMINs get an in-app
// notification.

export interface WebhookPolicy {
  /** Whole attempt: connection, request and answer. */
  timeoutMs: number;
  /** First retry delay, doubling per attempt. */
  backoffMs: number;
  disableAfterFailures: number;
}

export function webhookPolicyFromConfig(): WebhookPolicy {
  const { timeoutMs, backoffMs, disableAfterFailures } = config.webhooks;
  return { timeoutMs, backoffMs, disableAfterFailures };
}

const MAX_BACKOFF_MS = 12 * 3_600_000;
/** What is read of an answer's body before the connection is let go (the body is not used). */
const MAX_ANSWER_BYTES = 64 * 1024;
// Keep-alive per protocol: a reused socket was connected to an address checked when it was opened. An idle
// socket is dropped after 4 s, before a receiver's own idle timeout (Node's default is 5 s) can close it just
// as an attempt reuses it (which fails that attempt with "socket hang up").
const IDLE_SOCKET_MS = 4000;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS }),
};

interface Outcome {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

/** POSTs `body` to the pinned address; answers the HTTP status (a redirect is just a status). */
function post(target: ResolvedTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const agent = target.url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const request = (target.url.protocol === 'https:' ? https : http).request(
      target.url,
      { method: 'POST', agent, lookup: pinnedLookup(target), headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (answer) => {
        let read = 0;
        const status = answer.statusCode ?? 0;
        answer.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) {
            answer.destroy();
            resolve(status);
          }
        });
        answer.on('end', () => resolve(status));
        answer.on('error', reject);
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('close', () => clearTimeout(timer));
    request.on('error', reject);
    request.end(body);
  });
}

async function attempt(endpoint: WebhookEndpointRecord, message: OutboxRecord, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  try {
    const target = await resolveTarget(endpoint.url);
    const id = message.event_id ?? message._id.toHexString();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = openPayload(message);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'crm-api-webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(signingSecrets(endpoint), id, timestamp, body),
    };
    const statusCode = await post(target, headers, body, timeoutMs);
    const error = statusCode >= 200 && statusCode < 300 ? null : `answered HTTP ${statusCode}`;
    return { statusCode, durationMs: Math.round(performance.now() - started), error };
  } catch (error) {
    return { statusCode: null, durationMs: Math.round(performance.now() - started), error: describe(error) };
  }
}

async function disable(endpoint: WebhookEndpointRecord, reason: 'gone' | 'failures', log: Logger): Promise<void> {
  const result = await WebhookEndpoint.updateOne(
    { _id: endpoint._id, active: true },
    { $set: { active: false, disabled_reason: reason, disabled_at: new Date() } },
  );
  forgetSubscribers();
  if (result.modifiedCount === 0) return;
  log.warn({ webhook_id: endpoint._id.toHexString(), reason }, 'webhook endpoint disabled');
  await webhookDisabled(endpoint, reason);
}

function outcomeFields(outcome: Outcome) {
  return { last_status_code: outcome.statusCode, last_duration_ms: outcome.durationMs, last_error: outcome.error };
}

/** Records a failed attempt: retry later, or give up after the last one; counts it on the endpoint. */
async function recordFailure(
  endpoint: WebhookEndpointRecord,
  message: OutboxRecord,
  n: number,
  outcome: Outcome,
  policy: WebhookPolicy,
  log: Logger,
) {
  const fields = outcomeFields(outcome);
  const retryInMs = Math.min(MAX_BACKOFF_MS, policy.backoffMs * 2 ** (n - 1));
  const last = n >= message.max_attempts;
  // Counted on the endpoint before the message is released for its next attempt, so a later attempt (maybe
  // another worker's) never runs before this one's count. Approximate under concurrency (FerretDB runs $inc
  // as read-then-write): it only decides when to give up.
  await WebhookEndpoint.updateOne({ _id: endpoint._id }, { $inc: { consecutive_failures: 1 } });
  const counted = await WebhookEndpoint.findById(endpoint._id, { consecutive_failures: 1 }).lean<
    Pick<WebhookEndpointRecord, 'consecutive_failures'>
  >();
  if ((counted?.consecutive_failures ?? 0) >= policy.disableAfterFailures) await disable(endpoint, 'failures', log);
  await OutboxMessage.updateOne(
    { _id: message._id },
    { $set: last ? { ...fields, status: 'failed' } : { ...fields, next_attempt_at: new Date(Date.now() + retryInMs) } },
  );
  log.warn(
    { outbox_id: message._id.toHexString(), attempt: n, retry_in_ms: last ? null : retryInMs, err: outcome.error },
    'webhook attempt failed',
  );
}

/** Runs attempt `n` of a claimed webhook delivery and records its outcome. */
export async function deliverWebhook(message: OutboxRecord, n: number, policy: WebhookPolicy, log: Logger): Promise<void> {
  const endpoint = await WebhookEndpoint.findById(message.endpoint).lean<WebhookEndpointRecord>();
  if (!endpoint || !endpoint.active) {
    const reason = endpoint ? 'endpoint disabled' : 'endpoint deleted';
    await OutboxMessage.updateOne({ _id: message._id }, { $set: { status: 'failed', last_error: reason } });
    return;
  }
  const outcome = await attempt(endpoint, message, policy.timeoutMs);
  if (outcome.error === null) {
    // The endpoint's count is reset before the message reads `sent`: whoever sees the delivery sees the reset.
    if (endpoint.consecutive_failures > 0) await WebhookEndpoint.updateOne({ _id: endpoint._id }, { $set: { consecutive_failures: 0 } });
    await OutboxMessage.updateOne({ _id: message._id }, { $set: { ...outcomeFields(outcome), status: 'sent', sent_at: new Date() } });
    return;
  }
  if (outcome.statusCode === 410) {
    await OutboxMessage.updateOne({ _id: message._id }, { $set: { ...outcomeFields(outcome), status: 'failed' } });
    await disable(endpoint, 'gone', log);
    return;
  }
  await recordFailure(endpoint, message, n, outcome, policy, log);
}
