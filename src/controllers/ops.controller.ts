import type { Request, Response } from 'express';
import { config } from '../config/env';
import { openApiYaml } from '../openapi/document';
import * as healthService from '../services/health.service';
import { AppError } from '../utils/app-error';

export function healthz(_req: Request, res: Response) {
  res.json(healthService.liveness());
}

export async function readyz(_req: Request, res: Response) {
  if (!(await healthService.isReady(config.db.timeoutMs))) {
    throw new AppError(503, 'NOT_READY', 'Service not ready: the database is unreachable', [
      { field: 'database', message: 'unreachable' },
    ]);
  }
  res.json({ status: 'ready', checks: { database: 'up' } });
}

export function openapi(_req: Request, res: Response) {
  res.type('application/yaml').send(openApiYaml());
}
