'use strict';
// Concurrent GET load with autocannon. Latency percentiles come from every response's own time: autocannon's
// histogram counts whole milliseconds, too coarse for a cached answer.

const autocannon = require('autocannon');
const { percentile } = require('./stats');

/**
 * Runs `connections` keep-alive connections against `url` for `seconds`, each request with `headers`; throws when
 * any request failed.
 */
function load(url, { connections, seconds, headers = {} }) {
  const latenciesMs = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, headers }, (error, result) => {
      if (error) return reject(error);
      const failed = result.errors + result.timeouts + result.non2xx;
      if (failed > 0) return reject(new Error(`${url}: ${failed} of ${result.requests.sent} requests failed under load (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`));
      if (latenciesMs.length === 0) return reject(new Error(`${url}: no request completed in ${seconds} s`));
      latenciesMs.sort((a, b) => a - b);
      resolve({
        requestsPerSecond: latenciesMs.length / (result.duration || seconds),
        p50Ms: percentile(latenciesMs, 0.5),
        p99Ms: percentile(latenciesMs, 0.99),
        requests: latenciesMs.length,
        bytesPerSecond: result.throughput.average,
      });
    });
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => latenciesMs.push(responseTimeMs));
  });
}

module.exports = { load };
