'use strict';
// Timing of repeated operations: median and 99th percentile of single runs, each measured on its own.

const { percentile } = require('../lib/stats');

/**
 * Runs `operation` (sync or async) at least `minRuns` times and until `budgetMs` has passed (at most
 * `maxRuns`), after `warmup` unmeasured runs; returns the median and p99 of one run in milliseconds.
 */
async function timeRuns(operation, { warmup = 10, minRuns = 20, maxRuns = 10_000, budgetMs = 2000, between } = {}) {
  for (let run = 0; run < warmup; run++) {
    await operation(run);
    if (between) await between();
  }
  const durations = [];
  const deadline = performance.now() + budgetMs;
  while (durations.length < maxRuns && (durations.length < minRuns || performance.now() < deadline)) {
    const started = performance.now();
    await operation(durations.length);
    durations.push(performance.now() - started);
    if (between) await between();
  }
  durations.sort((a, b) => a - b);
  return { runs: durations.length, medianMs: percentile(durations, 0.5), p99Ms: percentile(durations, 0.99) };
}

/**
 * For operations far below a millisecond: the median over batches of `batch` runs, per run, in nanoseconds.
 * What `operation` returns is kept (counted), so that the compiler cannot drop the work as unused.
 */
function timeBatches(operation, { batch = 10_000, batches = 9, warmupBatches = 2 } = {}) {
  const perRunNs = [];
  let results = 0;
  for (let round = 0; round < warmupBatches + batches; round++) {
    const started = process.hrtime.bigint();
    for (let run = 0; run < batch; run++) if (operation(run) !== undefined) results++;
    if (round >= warmupBatches) perRunNs.push(Number(process.hrtime.bigint() - started) / batch);
  }
  perRunNs.sort((a, b) => a - b);
  if (results === 0) throw new Error('the timed operation returned nothing');
  return { batch, batches, medianNs: percentile(perRunNs, 0.5) };
}

/**
 * CPU time (user + system, this process) per run of `operation`, `between` included, after `warmup` runs: at least
 * `minRuns` runs and until `budgetMs` has passed. Beside wall time, a figure that other load on the machine does
 * not inflate as much.
 */
async function cpuMicrosPerRun(operation, { warmup = 10, minRuns = 20, budgetMs = 1500, between } = {}) {
  for (let run = 0; run < warmup; run++) {
    await operation(run);
    if (between) await between();
  }
  const deadline = performance.now() + budgetMs;
  const started = process.cpuUsage();
  let runs = 0;
  while (runs < minRuns || performance.now() < deadline) {
    await operation(runs);
    if (between) await between();
    runs++;
  }
  const used = process.cpuUsage(started);
  return { runs, cpuMicros: (used.user + used.system) / runs };
}

module.exports = { timeRuns, timeBatches, cpuMicrosPerRun };
