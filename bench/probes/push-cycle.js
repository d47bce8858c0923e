'use strict';
// The push path's CPU per collection cycle: the Jetson replay's cycle run back to back in this process, scrape-only
// and pushing (remote_write to `receiverUrl`), in alternating blocks; the difference per cycle is what pushing adds
// (the self-metrics gathered every cycle, the encoding, the queue's write, the sender's share of a batch). A third
// exporter only listens to every cycle: what it adds is the self-metrics' share. Prints the results as JSON.
//
//   node push-cycle.js '<json: {config, receiverUrl, workDir}>'   (run from the repository root)

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { openExporter, cycle, startPush, yieldToEventLoop } = require('./in-process');
const { cpuMicrosPerRun } = require('./timing');
const { median } = require('../lib/stats');

/** Cycles whose samples make one batch: at `interval: 1`, the default `batch_send_deadline` (5 s) sends five. */
const CYCLES_PER_BATCH = 5;
const ROUNDS = 5;
const BLOCK_MS = 1500;

async function main() {
  const { config, receiverUrl, workDir } = JSON.parse(process.argv[2]);
  const bareLoop = await cpuMicrosPerRun(() => undefined, { between: yieldToEventLoop, minRuns: 10_000 });
  const scrapeOnly = await openExporter(config, process.cwd());
  const seriesPerCycle = (await scrapeOnly.metricsText('prometheus')).split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  // Cycles run back to back never reach the batch deadline: the batch size stands in for it.
  const pushConfig = join(workDir, 'push-cycle.yaml');
  const settings = JSON.parse(readFileSync(config, 'utf8'));
  const maxSamplesPerSend = CYCLES_PER_BATCH * seriesPerCycle;
  settings.device_id = 'bench-push-cycle';
  settings.remote_write = [{ url: receiverUrl, name: 'bench', queue: { dir: join(workDir, 'push-cycle-queue'), max_samples_per_send: maxSamplesPerSend } }];
  writeFileSync(pushConfig, JSON.stringify(settings, null, 2) + '\n');
  const pushing = await openExporter(pushConfig, process.cwd());
  await startPush(pushing);
  // A cycle listener makes the cycle gather the self-metrics, as pushing does.
  const listening = await openExporter(config, process.cwd());
  listening.onCycle(() => undefined);
  const figures = { scrapeOnly: [], listening: [], pushing: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, exporter] of [['scrapeOnly', scrapeOnly], ['listening', listening], ['pushing', pushing]]) {
        figures[name].push((await cpuMicrosPerRun(() => cycle(exporter), { between: yieldToEventLoop, budgetMs: BLOCK_MS })).cpuMicros);
      }
    }
    const text = await pushing.metricsText('prometheus');
    const sent = Number(/^edge_remote_write_samples_sent_total\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    if (!(sent > 0)) throw new Error(`the pushing exporter sent nothing to ${receiverUrl}`);
    const scrapeOnlyMicros = median(figures.scrapeOnly);
    const pushingMicros = median(figures.pushing);
    const selfMetricsMicros = median(figures.listening) - scrapeOnlyMicros;
    const result = { bareLoopCpuMicros: bareLoop.cpuMicros, seriesPerCycle, maxSamplesPerSend, scrapeOnlyMicros, pushingMicros, pushMicros: pushingMicros - scrapeOnlyMicros, selfMetricsMicros, samplesSent: sent, blocks: figures };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await pushing.stop();
    await listening.stop();
    await scrapeOnly.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
