'use strict';
// Steady-state cost on the device: the exporter collecting every second and nobody scraping it. CPU time of the
// exporter's process (not of tegrastats, which the device runs anyway) over two windows that start together a few
// seconds after start-up (what a user sees after a restart): a short one and a long one; resident memory at the end.
// Beside them, a bare Node process that only keeps a timer: the floor.

const { waitForExposition } = require('../lib/exposition');
const { startProcess } = require('../lib/processes');
const { cpuSeconds, memory } = require('../lib/proc-stats');
const { startExporter, writeConfig } = require('../lib/subjects');

const SUBJECTS = ['jetson', 'host'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startBareNode() {
  return startProcess(process.execPath, ['-e', "setInterval(() => {}, 1000); console.log('ready')"], { name: 'bare Node process', ready: /^ready$/ });
}

/** CPU used since `from` ({cpu, at}), as CPU seconds per hour and percent of one core. */
function cpuSince(pid, from) {
  const windowSeconds = (performance.now() - from.at) / 1000;
  const used = cpuSeconds(pid) - from.cpu;
  return { windowSeconds, cpuSeconds: used, cpuSecondsPerHour: (used / windowSeconds) * 3600, corePercent: (used / windowSeconds) * 100 };
}

async function steady({ subjects, workDir, options, log }) {
  const windows = [options.idleSeconds, ...(options.longIdleSeconds > 0 ? [options.longIdleSeconds] : [])].sort((a, b) => a - b);
  log(`steady state: ${SUBJECTS.map((name) => subjects[name].label).join(' and ')} and a bare Node process side by side, idle windows of ${windows.join(' and ')} s from ${options.idleStartSeconds} s after the first /metrics`);
  const running = {};
  const labels = { bareNode: 'bare Node process' };
  const startedAt = {};
  try {
    startedAt.bareNode = performance.now();
    running.bareNode = await startBareNode();
    for (const name of SUBJECTS) {
      const subject = subjects[name];
      labels[name] = subject.label;
      startedAt[name] = performance.now();
      running[name] = await startExporter(await writeConfig(subject, `steady-${name}`, workDir), { cwd: subject.cwd, name, nodeArgs: options.nodeArgs });
      await waitForExposition(running[name].metricsUrl);
    }
    await sleep(options.idleStartSeconds * 1000);
    const from = Object.fromEntries(Object.entries(running).map(([name, { pid }]) => [name, { cpu: cpuSeconds(pid), at: performance.now() }]));
    const results = Object.fromEntries(
      Object.keys(running).map((name) => [name, { label: labels[name], windowStartSeconds: (from[name].at - startedAt[name]) / 1000, windows: [] }]),
    );
    let elapsed = 0;
    for (const seconds of windows) {
      await sleep((seconds - elapsed) * 1000);
      elapsed = seconds;
      for (const [name, { pid }] of Object.entries(running)) results[name].windows.push(cpuSince(pid, from[name]));
    }
    for (const [name, { pid }] of Object.entries(running)) {
      Object.assign(results[name], memory(pid));
      const cpu = results[name].windows.map((window) => `${window.corePercent.toFixed(2)} % over ${window.windowSeconds.toFixed(0)} s`).join(', ');
      log(`steady ${labels[name]}: ${cpu} of a core; RSS ${(results[name].rssBytes / 2 ** 20).toFixed(1)} MiB, peak ${(results[name].peakRssBytes / 2 ** 20).toFixed(1)} MiB`);
    }
    return results;
  } finally {
    await Promise.all(Object.values(running).map((child) => child.stop()));
  }
}

module.exports = { steady };
