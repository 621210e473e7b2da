import type { Request, Response } from 'express';
import { config } from '../config/env';
import * as healthService from '../services/health.service';
import { AppError } from '../utils/app-error';

export function healthz(_req: Request, res: Response) {
  res.json(healthService.liveness());
}

export async function readyz(_req: Request, res: Response) {
  const state = await healthService.readiness(config.db.timeoutMs);
  const engine = {
    name: state.engine.engine,
    version: state.engine.version,
    topology: state.engine.topology,
    transactions: state.engine.transactions,
    change_streams: state.engine.changeStreams,
    ttl_indexes: state.engine.ttlIndexes,
  };
  if (!state.ready) {
    const details = [];
    if (state.database === 'down') details.push({ field: 'database', message: 'unreachable' });
    if (state.setup === 'pending') details.push({ field: 'setup', message: 'indexes and start-up tasks still running' });
    const reason = state.database === 'down' ? 'the database is unreachable' : 'start-up is not finished';
    throw new AppError(503, 'NOT_READY', `Service not ready: ${reason}`, details);
  }
  res.json({ status: 'ready', checks: { database: state.database, setup: state.setup }, engine });
}

/** Serves the OpenAPI document of the app's routes (given by the app, which knows them). */
export function openapi(yaml: () => string) {
  return function serveOpenApi(_req: Request, res: Response) {
    res.type('application/yaml').send(yaml());
  };
}
