import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from './app';
import { readAsset, readFileIn, type Asset, type ConsoleRoots } from './console-assets';
import { fleetPower, PrometheusError } from './console-power';
import { checkCsrf, sessionCookie, type Session, type SessionManager } from './console-sessions';
import { signInPage } from './console-sign-in';
import { HttpError } from './errors';
import { clientAddress, methodNotAllowed, principalOf } from './requests';
import type { Principal } from './tokens';

/** What the console needs beyond the API's context. */
export interface ConsoleOptions {
  sessions: SessionManager;
  roots: ConsoleRoots;
  /** Prometheus's base URL, for `/ui/power`. */
  prometheusUrl?: string;
  /** Grafana's base URL, for links to the device dashboard. */
  grafanaUrl?: string;
}

/** The uid of deploy/grafana/device.json. */
export const GRAFANA_DEVICE_DASHBOARD = 'edge-metrics-device';

/** On every answer under /ui: no inline script or style, no framing, no sniffing, nothing cached. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

const FORM_LIMIT = '4kb';

/** Whether the client prefers an HTML page to JSON: a browser's navigation, not a script or curl. */
function wantsPage(req: Request): boolean {
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}

const describePrincipal = (principal: Principal): string => (principal.role === 'admin' ? 'admin' : `device ${principal.deviceId}`);

function sendAsset(res: Response, asset: Asset | undefined, what: string): void {
  if (!asset) throw new HttpError(404, `no ${what}`);
  res.type(asset.type).send(asset.body);
}

/**
 * The fleet console at /ui/: the sign-in page (public), sign-out, the session, the page and its assets, the power
 * figures; and `GET /` sends a browser there. Registered before the API's authentication: every /ui path but the
 * sign-in page and its stylesheet needs a session (or an open server).
 */
export function registerConsoleRoutes(app: Express, context: AppContext): void {
  const { authenticator, logger, store } = context;
  const { sessions, roots, prometheusUrl, grafanaUrl } = context.console;
  const readForm = express.urlencoded({ extended: false, limit: FORM_LIMIT });

  app.get('/', (req: Request, res: Response, next: NextFunction) => {
    if (wantsPage(req)) res.redirect(302, '/ui/');
    else next();
  });
  app.use('/ui', (_req: Request, res: Response, next: NextFunction) => {
    res.set(CONSOLE_HEADERS);
    next();
  });

  app
    .route('/ui/sign-in')
    .get(async (_req: Request, res: Response) => {
      if (authenticator.open) return res.redirect(303, '/ui/');
      res.type('html').send(await signInPage(roots.signIn, 'none'));
    })
    .post(readForm, async (req: Request, res: Response) => {
      if (authenticator.open) return res.redirect(303, '/ui/');
      const token = (req.body as Record<string, unknown> | undefined)?.token;
      const identity = typeof token === 'string' && token !== '' ? authenticator.identifyToken(token) : undefined;
      if (identity === undefined || identity.role === 'rejected') {
        logger.warn(`console sign-in refused from ${clientAddress(req)}: ${identity ? identity.reason : 'no token'}`);
        res.status(401).type('html').send(await signInPage(roots.signIn, 'invalidToken'));
        return;
      }
      const { cookieValue } = await sessions.open(identity, clientAddress(req));
      logger.info(`console sign-in as ${describePrincipal(identity)} from ${clientAddress(req)}`);
      res.set('Set-Cookie', sessionCookie(req, cookieValue, sessions.ttlSeconds)).redirect(303, '/ui/');
    })
    .all(methodNotAllowed('GET, HEAD, POST'));
  app.get('/ui/sign-in.css', async (_req: Request, res: Response) => {
    sendAsset(res, await readFileIn(roots.signIn, 'sign-in.css'), 'sign-in stylesheet');
  });

  app.use('/ui', async (req: Request, res: Response, next: NextFunction) => {
    if (authenticator.open) {
      res.locals.principal = { role: 'admin' } satisfies Principal;
      next();
      return;
    }
    const found = await sessions.ofRequest(req);
    if (!found) {
      if (wantsPage(req)) return res.redirect(303, '/ui/sign-in');
      throw new HttpError(401, 'no console session: sign in at /ui/sign-in');
    }
    res.locals.principal = found.session.principal;
    res.locals.session = found.session;
    res.locals.cookieValue = found.cookieValue;
    next();
  });

  app.post('/ui/sign-out', readForm, async (req: Request, res: Response) => {
    const session = res.locals.session as Session | undefined;
    if (session) {
      checkCsrf(req, session, (req.body as Record<string, unknown> | undefined)?.csrf_token);
      await sessions.end(res.locals.cookieValue as string);
      logger.info(`console sign-out of ${describePrincipal(session.principal)} from ${clientAddress(req)}`);
    }
    res.set('Set-Cookie', sessionCookie(req, '', 0)).redirect(303, '/ui/sign-in');
  });

  app.get('/ui/session', (_req: Request, res: Response) => {
    const principal = principalOf(res);
    const session = res.locals.session as Session | undefined;
    res.json({
      role: principal.role,
      device_id: principal.role === 'device' ? principal.deviceId : null,
      csrf_token: session?.csrfToken ?? null,
      expires_at: session ? new Date(session.expiresAt).toISOString() : null,
      offline_after_s: context.offlineAfterSeconds,
      prometheus: prometheusUrl !== undefined,
      grafana_url: grafanaUrl === undefined ? null : `${grafanaUrl.replace(/\/+$/, '')}/d/${GRAFANA_DEVICE_DASHBOARD}`,
    });
  });

  app.get(['/ui/', '/ui/index.html'], async (req: Request, res: Response) => {
    // Express matches /ui too; the page's relative links need the slash.
    if (req.path === '/ui') return res.redirect(301, '/ui/');
    sendAsset(res, await readFileIn(roots.public, 'index.html'), 'console page: ui/public/index.html is missing');
  });

  app.get('/ui/assets/:file', async (req: Request, res: Response) => {
    sendAsset(res, await readAsset(roots, String(req.params.file)), `asset ${JSON.stringify(String(req.params.file).slice(0, 80))}`);
  });

  app.get('/ui/power', async (_req: Request, res: Response) => {
    if (prometheusUrl === undefined) throw new HttpError(404, 'no Prometheus is configured: start the server with --prometheus-url');
    const principal = principalOf(res);
    const deviceIds = principal.role === 'device' ? [principal.deviceId] : (await store.devices()).map((device) => device.device_id);
    try {
      res.json(await fleetPower(prometheusUrl, deviceIds));
    } catch (error) {
      if (!(error instanceof PrometheusError)) throw error;
      logger.warn(`/ui/power: ${error.message}`);
      throw new HttpError(502, error.message);
    }
  });
}
