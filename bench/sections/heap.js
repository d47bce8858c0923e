'use strict';
// Heap growth over many collection cycles, in a process of its own (see probes/heap-growth.js).

const { join } = require('node:path');
const { runJsonScript } = require('../lib/processes');
const { REPO, writeConfig } = require('../lib/subjects');

/** tegrastats printing every 10 ms, so that the parser runs through the cycles too, not once a second. */
const FAST_TEGRASTATS_MS = 10;

async function heap({ subjects, workDir, options, log }) {
  const variants = {
    jetson: { ...subjects.jetson, config: { ...subjects.jetson.config, options: { ...subjects.jetson.config.options, interval_ms: FAST_TEGRASTATS_MS } } },
    synthetic1000: subjects.synthetic1000,
  };
  const results = {};
  for (const [name, subject] of Object.entries(variants)) {
    log(`heap: ${options.cycles} cycles of ${subject.label}`);
    const configPath = await writeConfig(subject, `heap-${name}`, workDir);
    results[name] = await runJsonScript(join(__dirname, '..', 'probes', 'heap-growth.js'), [configPath, String(options.cycles)], {
      cwd: REPO,
      nodeArgs: ['--expose-gc', ...options.nodeArgs],
    });
    results[name].label = subject.label;
  }
  return results;
}

module.exports = { heap };
