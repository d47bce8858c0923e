import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import type { Exporter } from '../exporter';
import { describeError } from '../errors';
import { METRIC_NAME } from '../metric-names';
import { bearerAuth } from './auth';

export const BODY_LIMIT = '64kb';

export interface ExpressApps {
  /** `/healthz` and the JSON 404 (beside `/metrics`, which `answerScrape` serves). */
  metrics: Express;
  /** The management routes: the same app as `metrics` when both share a port. */
  management: Express;
}

/** The apps of the metrics port and of the management port (`shared`: one port, one app). */
export function createApps(exporter: Exporter, shared: boolean): ExpressApps {
  const metrics = express();
  metrics.disable('x-powered-by');
  registerHealthRoute(metrics);
  const management = shared ? metrics : express();
  management.disable('x-powered-by');
  registerManagementRoutes(management, exporter);
  registerErrorHandlers(metrics);
  if (!shared) registerErrorHandlers(management);
  return { metrics, management };
}

/** `GET /healthz`. */
function registerHealthRoute(app: Express): void {
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
}

/** The management routes of the old exporter, with its JSON shapes, behind the optional bearer token. */
function registerManagementRoutes(app: Express, exporter: Exporter): void {
  const auth = bearerAuth(() => exporter.managementToken);
  const json = express.json({ limit: BODY_LIMIT, type: () => true });

  app.post('/reload', auth, async (_request, response) => {
    const result = await exporter.reload();
    if (result.ok) response.json({ status: 'success', source: result.source, device_type: exporter.deviceType });
    else response.status(422).json({ status: 'error', error: result.error, source: result.source });
  });

  app.get('/metrics/list', auth, (_request, response) => {
    response.json(exporter.listMetrics());
  });

  app.post('/metrics/enable', auth, json, async (request: Request, response: Response) => {
    const changes = metricChanges(request.body, exporter);
    if (typeof changes === 'string') {
      response.status(400).json({ status: 'error', error: changes });
      return;
    }
    try {
      await exporter.setMetrics(changes);
    } catch (error) {
      exporter.logger.error(`POST /metrics/enable not saved: ${describeError(error)}`);
      const code = (error as { code?: string }).code;
      response.status(code === 'EME_CONFIG_CONFLICT' ? 409 : code === 'EME_CONFIG_TOO_LARGE' ? 422 : 500).json({ status: 'error', error: describeError(error) });
      return;
    }
    response.json({ status: 'success', updated: Object.keys(changes).length, metrics: changes });
  });

  for (const [path, allowed] of [['/reload', 'POST'], ['/metrics/list', 'GET'], ['/metrics/enable', 'POST']] as const) {
    app.all(path, auth, (request, response) => {
      response.status(405).set('Allow', allowed).json({ status: 'error', error: `${request.method} ${path} is not allowed; use ${allowed}` });
    });
  }
}

/** Unknown routes and body errors as JSON `{status: "error", error}`. */
function registerErrorHandlers(app: Express): void {
  app.use((request, response) => {
    response.status(404).json({ status: 'error', error: `no route ${request.method} ${request.path}` });
  });
  const onError: ErrorRequestHandler = (error, _request, response, _next) => {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      response.status(413).json({ status: 'error', error: `the body is larger than ${BODY_LIMIT}` });
    } else if (type === 'entity.parse.failed') {
      response.status(400).json({ status: 'error', error: `the body is not valid JSON: ${describeError(error)}` });
    } else {
      const status = (error as { status?: number }).status;
      response.status(status && status >= 400 && status < 500 ? status : 500).json({ status: 'error', error: describeError(error) });
    }
  };
  app.use(onError);
}

/** Checks a `POST /metrics/enable` body: an object of metric name → boolean, each a name produced on this device. */
function metricChanges(body: unknown, exporter: Exporter): Record<string, boolean> | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'the body must be a JSON object of metric name to true or false, e.g. {"jetson_gpu_usage_percent": true}';
  }
  const entries = Object.entries(body);
  if (entries.length === 0) return 'the body names no metric';
  for (const [name, enabled] of entries) {
    if (typeof enabled !== 'boolean') return `'${name}': must be true or false, not ${describeValue(enabled)}`;
    if (!METRIC_NAME.test(name)) return `'${name}' is not a valid metric name`;
    if (!exporter.canProduce(name)) {
      return `'${name}' is not produced on this device (device type '${exporter.deviceType}'): GET /metrics/list shows the metrics it has`;
    }
  }
  return Object.fromEntries(entries) as Record<string, boolean>;
}

/** A value named for an error message; objects and arrays by kind only (they can be nested beyond JSON.stringify's stack). */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return JSON.stringify(value);
}
