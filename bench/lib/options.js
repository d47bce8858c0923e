'use strict';
// The bench's settings: each a flag, else an environment variable (for `npm run bench` at the root, which
// passes no flags through), else its default.

const { parseArgs } = require('node:util');

const SECTIONS = ['startup', 'steady', 'scrape', 'hot-paths', 'heap', 'config-server', 'push'];

const SETTINGS = {
  sections: { env: 'BENCH_SECTIONS', default: SECTIONS.join(','), help: `which sections to run, comma-separated: ${SECTIONS.join(', ')}` },
  'load-seconds': { env: 'BENCH_LOAD_SECONDS', default: '10', help: 'measured load per server in the scrape section' },
  'warmup-seconds': { env: 'BENCH_WARMUP_SECONDS', default: '2', help: 'unmeasured load before each measured one' },
  connections: { env: 'BENCH_CONNECTIONS', default: '10', help: 'concurrent keep-alive connections of the scrape load' },
  'idle-start-seconds': { env: 'BENCH_IDLE_START_SECONDS', default: '3', help: 'when the idle windows of the steady section start, after the first /metrics' },
  'idle-seconds': { env: 'BENCH_IDLE_SECONDS', default: '20', help: 'the short idle window of the steady section (CPU time just after a start)' },
  'long-idle-seconds': { env: 'BENCH_LONG_IDLE_SECONDS', default: '60', help: 'the long idle window of the steady section, from the same start (0: none)' },
  'poll-idle-seconds': { env: 'BENCH_POLL_IDLE_SECONDS', default: '5', help: 'how long the config server holds every long-poll, idle, for its CPU per poll' },
  'startup-runs': { env: 'BENCH_STARTUP_RUNS', default: '5', help: 'start-ups per subject (the median is reported)' },
  cycles: { env: 'BENCH_CYCLES', default: '10000', help: 'collection cycles of the heap-growth probe' },
  'fleet-sizes': { env: 'BENCH_FLEET_SIZES', default: '100,1000', help: 'simulated devices of the config-server section, comma-separated' },
  'registered-devices': { env: 'BENCH_REGISTERED_DEVICES', default: '10000', help: 'registered devices for the preview and membership figures of the config-server section' },
  'put-concurrency': { env: 'BENCH_PUT_CONCURRENCY', default: '16', help: 'PUTs in flight at once when the operator changes every device' },
  'outage-seconds': { env: 'BENCH_OUTAGE_SECONDS', default: '60', help: 'how long the push section stops the receiver under the exporter and the agents' },
  'backlog-seconds': { env: 'BENCH_BACKLOG_SECONDS', default: '3600', help: 'seconds offline (cycles at interval 1) of the backlog the push section drains' },
  'node-args': { env: 'BENCH_NODE_ARGS', default: '', help: 'extra Node options for the measured processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"' },
  'results-dir': { env: 'BENCH_RESULTS_DIR', default: 'results', help: 'where the JSON results go (relative to bench/)' },
};

const USAGE = `Usage: node run.js [--setting value ...]   (or the environment variables)

${Object.entries(SETTINGS)
  .map(([flag, setting]) => `  --${flag.padEnd(16)} ${setting.env.padEnd(22)} ${setting.help} (default: ${setting.default || 'none'})`)
  .join('\n')}
  --help`;

class UsageError extends Error {}

function positiveNumber(raw, name, { integer = false } = {}) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${name} must be a positive ${integer ? 'whole ' : ''}number, not '${raw}'`);
  }
  return value;
}

function nonNegativeNumber(raw, name) {
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a number of at least 0, not '${raw}'`);
  return value;
}

/** The settings from `argv` and `env`; throws a UsageError naming the flag and variable of a bad value. */
function parseOptions(argv, env) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...Object.fromEntries(Object.keys(SETTINGS).map((flag) => [flag, { type: 'string' }])), help: { type: 'boolean' } },
  });
  if (values.help) return { help: true };
  const raw = (flag) => values[flag] ?? env[SETTINGS[flag].env] ?? SETTINGS[flag].default;
  const name = (flag) => `--${flag} (${SETTINGS[flag].env})`;
  const sections = raw('sections').split(',').map((section) => section.trim()).filter(Boolean);
  const unknown = sections.filter((section) => !SECTIONS.includes(section));
  if (unknown.length > 0 || sections.length === 0) throw new UsageError(`${name('sections')}: '${unknown.join(',')}' is not among ${SECTIONS.join(', ')}`);
  const cycles = positiveNumber(raw('cycles'), name('cycles'), { integer: true });
  if (cycles < 100) throw new UsageError(`${name('cycles')} must be at least 100, not ${cycles}`);
  return {
    help: false,
    sections,
    loadSeconds: positiveNumber(raw('load-seconds'), name('load-seconds'), { integer: true }),
    warmupSeconds: positiveNumber(raw('warmup-seconds'), name('warmup-seconds'), { integer: true }),
    connections: positiveNumber(raw('connections'), name('connections'), { integer: true }),
    idleStartSeconds: nonNegativeNumber(raw('idle-start-seconds'), name('idle-start-seconds')),
    idleSeconds: positiveNumber(raw('idle-seconds'), name('idle-seconds')),
    longIdleSeconds: nonNegativeNumber(raw('long-idle-seconds'), name('long-idle-seconds')),
    pollIdleSeconds: positiveNumber(raw('poll-idle-seconds'), name('poll-idle-seconds')),
    startupRuns: positiveNumber(raw('startup-runs'), name('startup-runs'), { integer: true }),
    cycles,
    fleetSizes: raw('fleet-sizes').split(',').map((size) => positiveNumber(size.trim(), name('fleet-sizes'), { integer: true })),
    registeredDevices: positiveNumber(raw('registered-devices'), name('registered-devices'), { integer: true }),
    putConcurrency: positiveNumber(raw('put-concurrency'), name('put-concurrency'), { integer: true }),
    outageSeconds: positiveNumber(raw('outage-seconds'), name('outage-seconds'), { integer: true }),
    backlogSeconds: positiveNumber(raw('backlog-seconds'), name('backlog-seconds'), { integer: true }),
    nodeArgs: raw('node-args').split(' ').filter(Boolean),
    resultsDir: raw('results-dir'),
  };
}

module.exports = { parseOptions, UsageError, USAGE, SECTIONS };
