'use strict';
// Start-up: from spawning core's CLI to its first successful /metrics, and to the first one holding the
// device's samples (which waits for the device: tegrastats' first line, the host's second CPU reading).

const { waitForExposition } = require('../lib/exposition');
const { startExporter, writeConfig } = require('../lib/subjects');
const { median } = require('../lib/stats');

const SUBJECTS = ['jetson', 'host', 'synthetic100'];

async function startup({ subjects, workDir, options, log }) {
  const results = {};
  for (const name of SUBJECTS) {
    const subject = subjects[name];
    const configPath = await writeConfig(subject, `startup-${name}`, workDir);
    const runs = [];
    for (let run = 0; run < options.startupRuns; run++) {
      const spawnedAt = performance.now();
      const exporter = await startExporter(configPath, { cwd: subject.cwd, name, nodeArgs: options.nodeArgs });
      try {
        const { first200At, readyAt } = await waitForExposition(exporter.metricsUrl, { marker: subject.ready });
        runs.push({ firstMetricsMs: first200At - spawnedAt, firstSamplesMs: readyAt - spawnedAt });
      } finally {
        await exporter.stop();
      }
    }
    results[name] = {
      label: subject.label,
      runs,
      firstMetricsMs: median(runs.map((run) => run.firstMetricsMs)),
      firstSamplesMs: median(runs.map((run) => run.firstSamplesMs)),
    };
    log(`startup ${subject.label}: first /metrics ${results[name].firstMetricsMs.toFixed(0)} ms, with samples ${results[name].firstSamplesMs.toFixed(0)} ms (median of ${runs.length})`);
  }
  return results;
}

module.exports = { startup };
