import { config } from '../config/env';

/**
 * What is wrong with a webhook URL's form (scheme, credentials, fragment), or undefined. Checked by the
 * request schema; the addresses its host resolves to are checked by services/integrations (webhook-address).
 */
export function urlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.protocol === 'http:' && !config.webhooks.allowHttp) return 'must use https (WEBHOOK_ALLOW_HTTP is off)';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.hash) return 'must not have a fragment';
  return undefined;
}
