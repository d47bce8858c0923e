import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError } from '../errors';
import type { Exporter } from '../exporter';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, negotiateEncoding, negotiateFormat } from '../metrics/exposition';

/**
 * Answers `GET`/`HEAD /metrics` with the cached exposition of the last cycle (OpenMetrics when asked for, gzip when
 * accepted), straight on the request, and returns false for any other request. Kept outside express on purpose: the
 * scrape path then sends ready bytes, where express would hash every body to make an ETag, and an exporter that is
 * only scraped never loads express.
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
