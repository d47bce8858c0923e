import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import type { Exporter } from '../exporter';
import { describeError } from '../errors';
import { METRIC_NAME } from '../metric-names';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, negotiateEncoding, negotiateFormat } from '../metrics/exposition';
import { bearerAuth } from './auth';

export const BODY_LIMIT = '64kb';

/**
 * Answers `GET`/`HEAD /metrics` with the cached exposition of the last cycle (OpenMetrics when asked for, gzip when
 * accepted), straight on the request, and returns false for any other request. Kept outside express on purpose: the
 * scrape path then sends ready bytes, where express would hash every body to make an ETag.
 */
export function answerScrape(request: IncomingMessage, response: ServerResponse, exporter: Pick<Exporter, 'metricsBytes' | 'logger'>): boolean {
  const path = request.url?.split('?', 1)[0];
  if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  const format = negotiateFormat(request.headers.accept);
  const encoding = negotiateEncoding(request.headers['accept-encoding']);
  exporter.metricsBytes(format, encoding).then(
    (body) => {
      response.writeHead(200, {
        'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
        'Content-Length': body.length,
        Vary: 'Accept-Encoding',
        ...(encoding === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    },
    (error) => {
      exporter.logger.error(`GET /metrics: ${describeError(error)}`);
      response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`the exposition could not be made: ${describeError(error)}\n`);
    },
  );
  return true;
}

/** `GET /healthz`. */
export function registerHealthRoute(app: Express): void {
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
}

/** The management routes of the old exporter, with its JSON shapes, behind the optional bearer token. */
export function registerManagementRoutes(app: Express, exporter: Exporter): void {
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
export function registerErrorHandlers(app: Express): void {
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
