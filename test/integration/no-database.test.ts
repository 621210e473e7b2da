import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { closedPort, unobtainableEmbeddedMongo } from '../helpers/server-process';

const root = path.resolve(__dirname, '../..');

/** Runs Jest itself as `npm test` does, with no MONGODB_URI, on the given test names. */
async function runJest(env: Record<string, string | undefined>, args: string[]) {
  const child = spawn(process.execPath, [path.join(root, 'node_modules/jest/bin/jest.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, JEST_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

describe('npm test when the embedded MongoDB cannot start', () => {
  it('says what failed and the two ways out, runs the unit tests, and fails database tests with that message', async () => {
    const { code, stderr } = await runJest(unobtainableEmbeddedMongo(await closedPort()), [
      'test/unit/config.test.ts',
      'test/integration/development-defaults.test.ts',
      '--testNamePattern',
      'parses old encryption keys|CSP_UPGRADE_INSECURE_REQUESTS=always',
    ]);
    // Jest writes its report to stderr: the advice is the first thing in it, and nothing raw precedes it.
    expect(stderr.trimStart()).toMatch(/^The embedded MongoDB could not start: .*ECONNREFUSED/);
    expect(stderr).toContain('MONGODB_URI=mongodb://127.0.0.1:27017/ npm test');
    expect(stderr).toContain('MONGOMS_SYSTEM_BINARY=/path/to/mongod npm test');
    expect(stderr).toContain('Tests that need no database still run');
    expect(stderr).not.toContain('Starting the MongoMemoryServer Instance failed');
    expect(stderr).not.toMatch(/^\s+at .*mongodb-memory-server/m);
    // The unit test passed; the database test failed, with the advice as its error.
    expect(stderr).toMatch(/PASS test\/unit\/config\.test\.ts/);
    expect(stderr).toMatch(/FAIL test\/integration\/development-defaults\.test\.ts[\s\S]*The embedded MongoDB could not start/);
    expect(stderr).toMatch(/Tests:\s+1 failed, \d+ skipped, 1 passed/);
    expect(code).toBe(1);
    // Repeated after the report, so it is also the last thing on screen.
    expect(stderr.trimEnd()).toMatch(/MONGOMS_SYSTEM_BINARY=\/path\/to\/mongod npm test$/);
  }, 120_000);
});
