import type { NextFunction, Request, Response } from 'express';
import type { Permission } from '../config/permissions';
import { isDatabaseConnected } from '../database/connect';
import { resolvePrincipal } from '../services/auth.service';
import { looksLikeApiKey, resolveApiKeyPrincipal } from '../services/integrations';
import { verifyAccessToken } from '../services/token.service';
import { AppError } from '../utils/app-error';
import { can, type Principal } from '../utils/principal';

/** The original service read the JWT from a `token` header; `Authorization: Bearer` works everywhere too. */
export function tokenFromRequest(req: Request): string | undefined {
  const header = req.headers.token;
  const raw = typeof header === 'string' && header.trim() ? header : req.headers.authorization;
  if (!raw) return undefined;
  const match = /^\s*(?:bearer\s+)?(\S+)\s*$/i.exec(raw);
  return match?.[1];
}

/** An API key sent in place of a token (`Authorization: Bearer crm_…`), or else as `X-API-Key`. */
export function apiKeyFromRequest(req: Request, token: string | undefined): string | undefined {
  if (token !== undefined) return looksLikeApiKey(token) ? token : undefined;
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : undefined;
}

async function authenticateRequest(req: Request, res: Response): Promise<boolean> {
  const token = tokenFromRequest(req);
  const apiKey = apiKeyFromRequest(req, token);
  if (!token && !apiKey) return false;
  const claims = apiKey ? undefined : verifyAccessToken(token ?? '');
  // Every token is checked against the account's current token version (a key against its record), which
  // needs the database.
  if (!isDatabaseConnected()) throw AppError.databaseUnavailable();
  res.locals.principal = claims ? await resolvePrincipal(claims) : await resolveApiKeyPrincipal(apiKey ?? '');
  return true;
}

/** Requires a valid access token (401 otherwise) and stores the caller in res.locals.principal. */
export async function authenticate(req: Request, res: Response, next: NextFunction): Promise<void> {
  if (!(await authenticateRequest(req, res))) throw AppError.unauthorized();
  next();
}

/**
 * Like `authenticate`, but lets anonymous requests through. On such a route a token that cannot be used
 * (malformed, expired, revoked — e.g. the original README's placeholder `token: eyJhbGcik`) is treated as
 * absent: the request goes on as anonymous and the route decides what an anonymous caller may do. A valid token
 * still counts (an ADMIN creating staff); a database outage still answers 503.
 */
export async function authenticateOptional(req: Request, res: Response, next: NextFunction): Promise<void> {
  try {
    await authenticateRequest(req, res);
  } catch (error) {
    if (!(error instanceof AppError && error.status === 401)) throw error;
    res.locals.principal = undefined;
  }
  next();
}

/** 403 unless the caller's role grants at least one of the permissions. */
export function authorize(...permissions: [Permission, ...Permission[]]) {
  return function authorizeRequest(_req: Request, res: Response, next: NextFunction): void {
    const principal = currentPrincipal(res);
    if (!permissions.some((permission) => can(principal, permission))) throw AppError.forbidden();
    next();
  };
}

// res.locals is typed `any` by Express: the principal that authenticate stored is read back through a guard.

/** The authenticated caller, set by `authenticate`. */
export function currentPrincipal(res: Response): Principal {
  const principal: unknown = res.locals.principal;
  if (!isPrincipal(principal)) throw AppError.unauthorized();
  return principal;
}

function isPrincipal(value: unknown): value is Principal {
  return typeof value === 'object' && value !== null && 'type' in value && 'id' in value && 'role' in value;
}

/** The caller if a token was sent (routes using `authenticateOptional`). */
export function optionalPrincipal(res: Response): Principal | undefined {
  const principal: unknown = res.locals.principal;
  return isPrincipal(principal) ? principal : undefined;
}
