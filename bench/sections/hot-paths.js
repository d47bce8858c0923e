'use strict';
// Hot paths, timed in a process of their own (see probes/hot-paths.js).

const { join } = require('node:path');
const { runJsonScript } = require('../lib/processes');
const { JETSON_REPLAY, REPO, writeConfig } = require('../lib/subjects');

const SUBJECTS = ['jetson', 'host', 'synthetic100', 'synthetic1000', 'synthetic10000'];

async function hotPaths({ subjects, workDir, options, log }) {
  const configs = {};
  for (const name of SUBJECTS) configs[name] = await writeConfig(subjects[name], `hot-paths-${name}`, workDir);
  log('hot paths: parsing, collection cycles, config reload, POST /metrics/enable');
  const input = JSON.stringify({ trace: join(JETSON_REPLAY, 'trace.txt'), configs });
  const results = await runJsonScript(join(__dirname, '..', 'probes', 'hot-paths.js'), [input], { cwd: REPO, nodeArgs: options.nodeArgs });
  for (const [name, result] of Object.entries(results.cycles)) result.label = subjects[name].label;
  return results;
}

module.exports = { hotPaths };
