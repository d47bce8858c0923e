'use strict';
// Core's Exporter driven in this process, cycle by cycle, without the scheduler's wait between cycles.

const { Exporter, createLogger } = require('@edge-metrics/core');

/** An exporter on `configPath` whose collectors are started and have delivered their first samples. */
async function openExporter(configPath, cwd) {
  const exporter = await Exporter.create({ configPath, cwd, readOnly: true, logger: createLogger('error') });
  // cycle() is private to core's TypeScript API: the bench calls it to run cycles back to back.
  if (typeof exporter.cycle !== 'function') throw new Error("core's Exporter no longer has a cycle() method: update bench/probes/in-process.js");
  const { failed } = await exporter.collectOnce(30_000);
  if (failed.length > 0) throw new Error(`${configPath}: no samples from ${failed.join(', ')}`);
  return exporter;
}

/** One collection cycle, then the render a scrape after it causes. */
async function cycleAndRender(exporter) {
  await exporter.cycle();
  return exporter.metricsText('prometheus');
}

/** Lets pending I/O (a child's output, timers) run between cycles, as it does between scheduled ones. */
function yieldToEventLoop() {
  return new Promise((resolve) => setImmediate(resolve));
}

module.exports = { openExporter, cycleAndRender, yieldToEventLoop };
