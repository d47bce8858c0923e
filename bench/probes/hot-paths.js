'use strict';
// Hot paths, each timed in this process: one tegrastats line parsed, one collection cycle (and the render of
// the scrape after it) per subject, one config reload, one POST /metrics/enable round trip with its atomic
// write of the config file. Prints the results as JSON.
//
//   node hot-paths.js '<json: {trace, configs: {name: path}}>'   (run from the repository root)

const { readFileSync } = require('node:fs');
const { Agent } = require('node:http');
const { join } = require('node:path');
const { serve } = require('@edge-metrics/core');
const { expectStatus } = require('../lib/http');
const { openExporter, cycle, cycleAndRender, yieldToEventLoop } = require('./in-process');
const { cpuMicrosPerRun, timeBatches, timeRuns } = require('./timing');

const REPO = join(__dirname, '..', '..');
const { parseTegrastatsLine } = require(join(REPO, 'plugins', 'jetson', 'dist', 'tegrastats'));
const { jetsonSamples } = require(join(REPO, 'plugins', 'jetson', 'dist', 'metrics'));

function parsing(trace) {
  const lines = readFileSync(trace, 'utf8').split('\n').filter((line) => line.trim() !== '');
  const line = (run) => lines[run % lines.length];
  return {
    parseNs: timeBatches((run) => parseTegrastatsLine(line(run))).medianNs,
    lineToSamplesNs: timeBatches((run) => jetsonSamples(parseTegrastatsLine(line(run)))).medianNs,
  };
}

async function cycles(configPath) {
  const exporter = await openExporter(configPath, process.cwd());
  try {
    const cycleTimes = await timeRuns(() => cycle(exporter), { between: yieldToEventLoop });
    const cycleWithRender = await timeRuns(() => cycleAndRender(exporter), { between: yieldToEventLoop });
    const cpu = await cpuMicrosPerRun(() => cycle(exporter), { between: yieldToEventLoop });
    return { cycle: cycleTimes, render: { medianMs: cycleWithRender.medianMs - cycleTimes.medianMs }, cycleWithRender, cpuMicros: cpu.cpuMicros };
  } finally {
    await exporter.stop();
  }
}

async function management(configPath) {
  const exporter = await openExporter(configPath, process.cwd());
  const listening = await serve(exporter);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const reload = await timeRuns(async () => {
      const result = await exporter.reload();
      if (!result.ok) throw new Error(`reload failed: ${result.error}`);
    });
    const enableUrl = `http://127.0.0.1:${listening.reloadPort}/metrics/enable`;
    const enable = await timeRuns(
      (run) =>
        expectStatus(200, enableUrl, {
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ jetson_gpu_usage_percent: run % 2 === 0 }),
        }),
      { warmup: 5, minRuns: 20, maxRuns: 200 },
    );
    return { reload, enable };
  } finally {
    agent.destroy();
    await listening.close();
    await exporter.stop();
  }
}

async function main() {
  const { trace, configs } = JSON.parse(process.argv[2]);
  // The floor: a loop turn that does nothing, measured as the cycles are.
  const bareLoop = await cpuMicrosPerRun(() => undefined, { between: yieldToEventLoop, minRuns: 10_000 });
  const results = { parsing: parsing(trace), bareLoopCpuMicros: bareLoop.cpuMicros, cycles: {} };
  for (const [name, path] of Object.entries(configs)) results.cycles[name] = await cycles(path);
  results.management = await management(configs.jetson);
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
