import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { appMessageClasses } from '../../src/utils/app-message-classes';

const root = path.resolve(__dirname, '../..');

describe('appMessageClasses', () => {
  it("gives every request and response the app's own prototypes, with Express's methods and the app's additions", async () => {
    const app = express();
    const classes = appMessageClasses(app);
    expect(appMessageClasses(app)).toBe(classes);
    app.get('/', (req, res) => {
      res.json({
        request: Object.getPrototypeOf(req) === app.request,
        response: Object.getPrototypeOf(res) === app.response,
        nodeClasses: req instanceof http.IncomingMessage && res instanceof http.ServerResponse,
        app: req.app === app && res.app === app,
        path: req.path,
      });
    });
    const server = http.createServer(classes, app);
    const reply = await request(server).get('/?x=1');
    expect(reply.body).toEqual({ request: true, response: true, nodeClasses: true, app: true, path: '/' });
  });

  it('keeps the properties of requests and responses fast (not in a V8 dictionary) through the whole service', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', 'test/fixtures/fast-properties.ts'],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 20_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '{}')).toEqual({
      'GET response in handler': true,
      'GET request at finish': true,
      'GET response at finish': true,
      'POST response in handler': true,
      'POST request at finish': true,
      'POST response at finish': true,
    });
  });
});
