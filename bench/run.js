'use strict';
// Benchmarks of Edge Metrics Exporter: runs the chosen sections, prints one table on stdout (progress goes to
// stderr) and writes every figure to results/<time stamp>.json. See README.md.

const { execFileSync } = require('node:child_process');
const { mkdir, mkdtemp, rm, writeFile } = require('node:fs/promises');
const os = require('node:os');
const { join, resolve } = require('node:path');
const { parseOptions, UsageError, USAGE } = require('./lib/options');
const { renderChart } = require('./lib/chart');
const { reportRows } = require('./lib/report');
const { REPO, UNIT_NODE_FLAGS, installSyntheticPlugin, subjects } = require('./lib/subjects');
const { renderTable } = require('./lib/table');
const { configServer } = require('./sections/config-server');
const { heap } = require('./sections/heap');
const { hotPaths } = require('./sections/hot-paths');
const { push } = require('./sections/push');
const { scrape } = require('./sections/scrape');
const { startup } = require('./sections/startup');
const { steady } = require('./sections/steady');

const SECTIONS = { startup, steady, scrape, 'hot-paths': hotPaths, heap, 'config-server': configServer, push };

function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}

/** The commit measured, when the repository is a git checkout. */
function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model,
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg(),
  };
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError) && error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && error.code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const startedAt = new Date();
  const results = { startedAt: startedAt.toISOString(), commit: commit(), machine: machine(), options, sections: {} };
  const workDir = await mkdtemp(join(os.tmpdir(), 'edge-metrics-bench-'));
  try {
    const context = { subjects: await subjects(await installSyntheticPlugin(workDir)), workDir, options, log };
    for (const section of options.sections) {
      const sectionStarted = performance.now();
      results.sections[section] = await SECTIONS[section](context);
      log(`${section} done in ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  results.machine.loadAverageAtEnd = os.loadavg();
  results.seconds = (Date.now() - startedAt.getTime()) / 1000;

  const { header, groups } = reportRows(results.sections);
  const { cpuModel, cores, loadAverageAtStart, loadAverageAtEnd } = results.machine;
  process.stdout.write(`Edge Metrics Exporter bench, ${results.startedAt}${results.commit ? ` at ${results.commit}` : ''}: ${cores} × ${cpuModel}, Node ${process.version} (exporters with ${UNIT_NODE_FLAGS.join(' ') || 'no Node options'}, as the systemd unit starts them), load average ${loadAverageAtStart[0].toFixed(2)} at start and ${loadAverageAtEnd[0].toFixed(2)} at end, ${results.seconds.toFixed(0)} s\n\n`);
  process.stdout.write(renderTable(header, groups));
  const resultsDir = resolve(__dirname, options.resultsDir);
  await mkdir(resultsDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const file = join(resultsDir, `${stamp}.json`);
  await writeFile(file, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`\nAll figures: ${file}\n`);
  const chart = renderChart(results);
  if (chart) {
    await writeFile(join(resultsDir, `${stamp}.svg`), chart);
    await writeFile(join(resultsDir, 'latest.svg'), chart);
    process.stdout.write(`Chart: ${join(resultsDir, `${stamp}.svg`)} (and latest.svg)\n`);
  }
  return 0;
}

main().then(
  (status) => process.exit(status),
  (error) => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`);
    process.exit(1);
  },
);
