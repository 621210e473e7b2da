import net from 'node:net';

export interface RawExchange {
  /** Status of the first response on the connection; 0 when none arrived. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection before `limitMs`. */
  closed: boolean;
  /** Milliseconds from connecting until the server closed (or until `limitMs`). */
  elapsed: number;
}

/** `HEAD\r\n` lines of a request, ending with the empty line. */
export function requestHead(startLine: string, headers: Record<string, string | number>): string {
  return `${[startLine, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)].join('\r\n')}\r\n\r\n`;
}

function parseFirstResponse(raw: string): Pick<RawExchange, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? raw.length);
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: raw.slice(end + 4, end + 4 + length) };
}

/**
 * Opens a plain TCP connection (no HTTP client to tidy up what is sent), lets `send` write to it, and
 * collects everything the server answers until it closes the connection or `limitMs` passes.
 */
export function rawExchange(port: number, send: (socket: net.Socket) => void, limitMs = 15_000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      socket.destroy();
      resolve({ ...parseFirstResponse(Buffer.concat(chunks).toString('utf8')), closed, elapsed: Date.now() - started });
    };
    const limit = setTimeout(() => finish(false), limitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may reset a connection it closes while body bytes are unread: closed all the same.
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('connect', () => send(socket));
  });
}
