'use strict';
// Core's Exporter driven in this process, cycle by cycle, without the scheduler's wait between cycles.

const { Exporter, createLogger } = require('@edge-metrics/core');

/** An exporter on `configPath` whose collectors are started and have delivered their first samples. */
async function openExporter(configPath, cwd) {
  const exporter = await Exporter.create({ configPath, cwd, readOnly: true, logger: createLogger('error') });
  // The runtime's cycle() is private to core's TypeScript API: the bench calls it to run cycles back to back.
  if (typeof exporter.runtime?.cycle !== 'function') throw new Error("core's Exporter no longer has runtime.cycle(): update bench/probes/in-process.js");
  const { failed } = await exporter.collectOnce(30_000);
  if (failed.length > 0) throw new Error(`${configPath}: no samples from ${failed.join(', ')}`);
  return exporter;
}

/** Starts the exporter's remote_write receivers (its push path), without its schedule or config watch. */
async function startPush(exporter) {
  // Like runtime.cycle(), the push manager is private to core's TypeScript API.
  if (typeof exporter.push?.configure !== 'function') throw new Error("core's Exporter no longer has push.configure(): update bench/probes/in-process.js");
  await exporter.push.configure(exporter.push.plan(exporter.currentConfig, exporter.configPath));
}

/** One collection cycle, as the schedule runs it when nobody scrapes. */
function cycle(exporter) {
  return exporter.runtime.cycle();
}

/** One collection cycle, then what the first scrape after it causes (self-metrics gathered, render). */
async function cycleAndRender(exporter) {
  await cycle(exporter);
  return exporter.metricsText('prometheus');
}

/** Lets pending I/O (a child's output, timers) run between cycles, as it does between scheduled ones. */
function yieldToEventLoop() {
  return new Promise((resolve) => setImmediate(resolve));
}

module.exports = { openExporter, startPush, cycle, cycleAndRender, yieldToEventLoop };
