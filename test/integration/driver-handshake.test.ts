import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { config } from '../../src/config/env';
import { connectDatabase, createMongoClient } from '../../src/database/connect';
import { testMongoUri, uniqueDbName, uriWithDb } from '../helpers/db';
import { TcpProxy } from '../helpers/tcp-proxy';
import { readCommands, type WireCommand } from '../helpers/wire';

// The driver loads `os` for its handshake with a dynamic import(), which Jest's module sandbox cannot run;
// it then sends a `client` document without `driver`, and mongod (and SecantusDB) refuse the connection.
// These tests read the handshake off the wire, between the client and the server, in that very sandbox.

const proxy = TcpProxy.forUri(testMongoUri());
const dbName = uniqueDbName('handshake');

function handshakes(): WireCommand[] {
  return proxy
    .clientBytes()
    .map((stream) => readCommands(stream)[0])
    .filter(
      (command): command is WireCommand =>
        command !== undefined && ('hello' in command.body || 'isMaster' in command.body || 'ismaster' in command.body),
    );
}

function expectFullClientMetadata(command: WireCommand): void {
  expect(command.body.client).toMatchObject({
    driver: { name: expect.stringMatching(/^nodejs/), version: expect.any(String) },
    os: { type: os.type(), name: os.platform(), architecture: os.arch() },
  });
}

beforeAll(async () => {
  await proxy.start();
});

afterAll(async () => {
  await mongoose.disconnect();
  await proxy.cut();
});

describe('driver handshake', () => {
  it("sends the driver and os metadata on the service's own connection, and the server accepts it", async () => {
    const via = uriWithDb(`mongodb://127.0.0.1:${proxy.port}/`, dbName);
    await connectDatabase(via, { timeoutMs: config.db.timeoutMs });
    await expect(mongoose.connection.db?.command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    const sent = handshakes();
    expect(sent.length).toBeGreaterThan(0);
    for (const command of sent) expectFullClientMetadata(command);
  });

  it('sends the same metadata from a plain client made by createMongoClient', async () => {
    const before = handshakes().length;
    const client = createMongoClient(`mongodb://127.0.0.1:${proxy.port}/`, { directConnection: true, serverSelectionTimeoutMS: 5000 });
    try {
      await expect(client.db(dbName).command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    } finally {
      await client.close();
    }
    const sent = handshakes().slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const command of sent) expectFullClientMetadata(command);
  });
});
