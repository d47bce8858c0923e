import type { Logger } from '@edge-metrics/core/plugin';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { ChangeNotifier } from './change-notifier';
import { registerConfigRoutes } from './config-routes';
import { registerConsoleRoutes, type ConsoleOptions } from './console-routes';
import { checkCsrf, checkReadOnly } from './console-sessions';
import { registerDeviceRoutes } from './device-routes';
import { deviceIdProblem } from './device-id';
import { DatabaseBusyError, DatabaseUnavailableError, describeError, HttpError } from './errors';
import { registerLayerRoutes } from './layer-routes';
import type { ServerMetrics } from './metrics';
import { clientAddress, principalOf, requireAdmin } from './requests';
import type { RolloutTimer } from './rollout-timer';
import type { Store } from './store-api';
import type { Authenticator } from './tokens';

/** What the routes work with. */
export interface AppContext {
  store: Store;
  notifier: ChangeNotifier;
  authenticator: Authenticator;
  metrics: ServerMetrics;
  rollouts: RolloutTimer;
  logger: Logger;
  /** Cap of `?wait=N` on GET /config. */
  maxWaitSeconds: number;
  bodyLimitBytes: number;
  /** A device is online while its last request is at most this old. */
  offlineAfterSeconds: number;
  console: ConsoleOptions;
}

/** The HTTP API; see the README for each route. */
export function createApp(context: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // a config's ETag is its version, set by the route
  app.use(countRequests(context.metrics));
  // A load balancer takes a replica whose database does not answer out of service.
  app.get('/healthz', async (_req, res) => {
    try {
      await context.store.ping();
    } catch (error) {
      res.status(503).set('Retry-After', String(LOCKED_RETRY_AFTER_S)).json({ status: 'unavailable', error: describeError(error) });
      return;
    }
    res.json({ status: 'ok' });
  });
  registerConsoleRoutes(app, context);
  app.use(authenticate(context));
  app.use(['/config/:deviceId', '/devices/:deviceId'], checkDeviceAccess);
  registerConfigRoutes(app, context);
  registerDeviceRoutes(app, context);
  registerLayerRoutes(app, context);
  app.get('/metrics', requireAdmin, async (_req, res) => {
    res.type(context.metrics.registry.contentType).send(await context.metrics.registry.metrics());
  });
  registerErrorHandlers(app, context);
  return app;
}

function countRequests(metrics: ServerMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.once('finish', () => {
      const matched = req.route as { path: unknown } | undefined;
      const route = matched ? `${req.baseUrl}${String(matched.path)}` : 'unmatched';
      metrics.requests.inc({ method: req.method, route, code: String(res.statusCode) });
    });
    next();
  };
}

/**
 * 401 unless the bearer token is the admin's or a device's, or (without an `Authorization` header) the console's
 * session cookie is a live session's: then a write needs the session's CSRF token, and a device's session only reads.
 * Leaves the caller in `res.locals.principal`.
 */
function authenticate({ authenticator, logger, console: { sessions } }: AppContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!authenticator.open && req.get('Authorization') === undefined) {
      const found = await sessions.ofRequest(req);
      if (found) {
        checkReadOnly(req, found.session);
        checkCsrf(req, found.session);
        res.locals.principal = found.session.principal;
        next();
        return;
      }
    }
    const identity = authenticator.identify(req.get('Authorization'));
    if (identity.role === 'rejected') {
      logger.warn(`refused ${req.method} ${req.path} from ${clientAddress(req)}: ${identity.reason}`);
      res.set('WWW-Authenticate', 'Bearer realm="edge-metrics-config-server"');
      throw new HttpError(401, identity.reason);
    }
    res.locals.principal = identity;
    next();
  };
}

/** 400 for a malformed device id (before any route sees it); 403 when a device token names another device. */
function checkDeviceAccess(req: Request, res: Response, next: NextFunction): void {
  const deviceId = String(req.params.deviceId);
  const problem = deviceIdProblem(deviceId);
  if (problem) throw new HttpError(400, problem);
  const principal = principalOf(res);
  if (principal.role === 'device' && principal.deviceId !== deviceId) {
    throw new HttpError(403, `this token belongs to device ${principal.deviceId}, not ${deviceId}`);
  }
  next();
}

/** Seconds a client is asked to wait before retrying a request refused because the database is locked or unreachable. */
const LOCKED_RETRY_AFTER_S = 5;

/** A 404 for every other route, and every error as JSON `{error, ...details}`; a 5xx is logged, its details are not sent. */
function registerErrorHandlers(app: Express, { logger, bodyLimitBytes }: AppContext): void {
  app.use((req: Request) => {
    throw new HttpError(404, `no route ${req.method} ${req.path}`);
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, body } = errorResponse(error, bodyLimitBytes);
    if (status >= 500) logger.error(`${req.method} ${req.path}: ${describeError(error)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 503) res.set('Retry-After', String(LOCKED_RETRY_AFTER_S));
    res.status(status).json(body);
  });
}

function errorResponse(error: unknown, bodyLimitBytes: number): { status: number; body: Record<string, unknown> } {
  if (error instanceof HttpError) return { status: error.status, body: { error: error.message, ...error.details } };
  // Another process (a backup, the sqlite3 shell) has held the database's write lock beyond the busy timeout.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return { status: 503, body: { error: 'the database is locked by another process; nothing was stored, retry later' } };
  }
  if (error instanceof DatabaseUnavailableError) {
    return { status: 503, body: { error: 'the database cannot be reached; nothing was stored, retry later' } };
  }
  if (error instanceof DatabaseBusyError) {
    return { status: 503, body: { error: `${error.message}; nothing was stored, retry later` } };
  }
  // Errors of body-parser and the router carry `status`, `expose` and, for bodies, a `type`.
  const { status, expose, type } = (error ?? {}) as { status?: unknown; expose?: unknown; type?: unknown };
  if (type === 'entity.too.large') {
    return { status: 413, body: { error: `the request body is larger than the limit of ${bodyLimitBytes} bytes` } };
  }
  // The router's error for a path parameter that is not valid percent-encoding, e.g. /config/%zz.
  if (error instanceof URIError && status === 400) {
    return { status: 400, body: { error: `the path is not valid percent-encoding: ${error.message}` } };
  }
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
    return { status, body: { error: describeError(error) } };
  }
  return { status: 500, body: { error: 'internal error; the server log has the details' } };
}
