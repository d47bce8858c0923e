'use strict';
// Reading an exposition: how big it is and how many series it holds.

const { request } = require('./http');

/** The sample lines of a Prometheus text exposition (everything but comments and blank lines). */
function countSeries(text) {
  let count = 0;
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) count++;
  return count;
}

/**
 * Polls `url` until it answers 200 with `marker` in the body (or, without a marker, any 200); returns the
 * answer and the monotonic times (performance.now()) of the first 200 and of the one with the marker.
 */
async function waitForExposition(url, { marker, timeoutMs = 30_000, pollMs = 5 } = {}) {
  const deadline = performance.now() + timeoutMs;
  let first200At;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const response = await request(url, { timeoutMs: 5000 });
      const at = performance.now();
      last = `status ${response.status}`;
      if (response.status === 200) {
        first200At ??= at;
        if (marker === undefined || response.body.includes(marker)) return { response, first200At, readyAt: at };
        last = `200 without '${marker}'`;
      }
    } catch (error) {
      last = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`${url} did not serve ${marker ? `'${marker}'` : 'a 200'} within ${timeoutMs / 1000} s (last: ${last})`);
}

module.exports = { countSeries, waitForExposition };
