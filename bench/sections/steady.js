'use strict';
// Steady-state cost on the device: the exporter collecting every second and nobody scraping it. CPU time of the
// exporter's process (not of tegrastats, which the device runs anyway) over a fixed window, scaled to an hour;
// resident memory at the end of the window. Beside them, a bare Node process that only keeps a timer: the floor.

const { waitForExposition } = require('../lib/exposition');
const { startProcess } = require('../lib/processes');
const { cpuSeconds, memory } = require('../lib/proc-stats');
const { startExporter, writeConfig } = require('../lib/subjects');

const SUBJECTS = ['jetson', 'host'];
/** Start-up work (loading, the first compilations) is not the steady state: it is left out of the window. */
const SETTLE_MS = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startBareNode() {
  return startProcess(process.execPath, ['-e', "setInterval(() => {}, 1000); console.log('ready')"], { name: 'bare Node process', ready: /^ready$/ });
}

async function steady({ subjects, workDir, options, log }) {
  log(`steady state: ${SUBJECTS.map((name) => subjects[name].label).join(' and ')} and a bare Node process side by side, idle for ${options.idleSeconds} s`);
  const running = {};
  const labels = { bareNode: 'bare Node process' };
  try {
    running.bareNode = await startBareNode();
    for (const name of SUBJECTS) {
      const subject = subjects[name];
      labels[name] = subject.label;
      running[name] = await startExporter(await writeConfig(subject, `steady-${name}`, workDir), { cwd: subject.cwd, name, nodeArgs: options.nodeArgs });
      await waitForExposition(running[name].metricsUrl, { marker: subject.ready });
    }
    await sleep(SETTLE_MS);
    const before = Object.fromEntries(Object.entries(running).map(([name, { pid }]) => [name, { cpu: cpuSeconds(pid), at: performance.now() }]));
    await sleep(options.idleSeconds * 1000);
    const results = {};
    for (const [name, { pid }] of Object.entries(running)) {
      const windowSeconds = (performance.now() - before[name].at) / 1000;
      const used = cpuSeconds(pid) - before[name].cpu;
      results[name] = {
        label: labels[name],
        windowSeconds,
        cpuSeconds: used,
        cpuSecondsPerHour: (used / windowSeconds) * 3600,
        corePercent: (used / windowSeconds) * 100,
        ...memory(pid),
      };
      log(`steady ${labels[name]}: ${results[name].corePercent.toFixed(2)} % of a core, RSS ${(results[name].rssBytes / 2 ** 20).toFixed(1)} MiB`);
    }
    return results;
  } finally {
    await Promise.all(Object.values(running).map((child) => child.stop()));
  }
}

module.exports = { steady };
