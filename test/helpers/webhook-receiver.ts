import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A real webhook receiver: a node:http server on a random port that keeps every request it gets (path,
// headers, raw body) and answers what the test says (default 200).

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body. */
  json: { id: string; type: string; created_at: string; data: { object: Record<string, unknown>; previous?: Record<string, unknown> } };
}

/** How to answer one request: a status, or `hang` (never answer). */
export type Answer = number | 'hang' | ((res: ServerResponse) => void);

export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  /** Answers for the next requests, in order; then `defaultAnswer`. */
  readonly answers: Answer[] = [];
  defaultAnswer: Answer = 200;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: ReceivedHook['json'];
      try {
        json = JSON.parse(body);
      } catch {
        json = { id: '', type: '', created_at: '', data: { object: {} } };
      }
      this.received.push({ path: req.url ?? '', headers: req.headers, body, json });
      const answer = this.answers.shift() ?? this.defaultAnswer;
      if (answer === 'hang') return;
      if (typeof answer === 'function') return answer(res);
      res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.received.length = 0;
    this.answers.length = 0;
    this.defaultAnswer = 200;
  }

  ofType(type: string): ReceivedHook[] {
    return this.received.filter((hook) => hook.json.type === type);
  }

  /** Waits until `check` holds for what was received. */
  async waitFor(check: (received: ReceivedHook[]) => boolean, timeoutMs = 15_000): Promise<ReceivedHook[]> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.received)) {
      if (Date.now() > deadline) {
        throw new Error(`webhooks not received within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((h) => h.json.type))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received;
  }
}

/** The headers standardwebhooks' verify takes, from what node:http received. */
export function signatureHeaders(hook: ReceivedHook): Record<string, string> {
  return {
    'webhook-id': String(hook.headers['webhook-id']),
    'webhook-timestamp': String(hook.headers['webhook-timestamp']),
    'webhook-signature': String(hook.headers['webhook-signature']),
  };
}
