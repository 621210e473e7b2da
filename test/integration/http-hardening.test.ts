import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpServer } from '../../src/http-server';
import { buildTestApp } from '../helpers/app';
import { useTestDatabase } from '../helpers/db';
import { rawExchange, requestHead, type RawExchange } from '../helpers/raw-http';

// Transport-level hardening (issue 15: item 13), through a real HTTP server built as
// src/server.ts builds it.

useTestDatabase();
const app = buildTestApp();
let server: Server;
let port: number;

beforeAll(async () => {
  server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function expectErrorBody(exchange: RawExchange | undefined, code: string): void {
  expect(exchange?.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(exchange?.body ?? 'null')).toEqual({ error: expect.any(String), code, details: [] });
}

describe("Node's own refusals of a request it cannot parse", () => {
  it('answers a malformed header line with 400 JSON and closes', async () => {
    const exchange = await rawExchange(port, (socket) => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nThis is no header\r\n\r\n'));
    expect(exchange).toMatchObject({ status: 400, closed: true });
    expectErrorBody(exchange, 'BAD_REQUEST');
  });

  it('answers headers over the size limit with 431 JSON and closes', async () => {
    const exchange = await rawExchange(port, (socket) => socket.write(requestHead('GET /healthz HTTP/1.1', { Host: 'localhost', 'X-Padding': 'a'.repeat(20_000) })));
    expect(exchange).toMatchObject({ status: 431, closed: true });
    expectErrorBody(exchange, 'HEADERS_TOO_LARGE');
  });
});
