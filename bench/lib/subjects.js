'use strict';
// The exporter configurations the bench measures, and starting core's CLI on them.

const { readFileSync } = require('node:fs');
const { cp, mkdir, readFile, writeFile } = require('node:fs/promises');
const { createRequire } = require('node:module');
const { join, resolve } = require('node:path');
const { hostPlugin } = require('@edge-metrics/core');
const { familyNames } = require('../synthetic-plugin');
const { startProcess } = require('./processes');

const REPO = resolve(__dirname, '..', '..');
const CLI = join(REPO, 'core', 'dist', 'cli.js');
const JETSON_REPLAY = join(REPO, 'examples', 'jetson-replay');

/** The Node options of the systemd unit's `ExecStart`: every exporter is measured as the unit runs it. */
const UNIT_NODE_FLAGS = /^ExecStart=\{\{NODE\}\}((?: --\S+)*) /m
  .exec(readFileSync(join(REPO, 'deploy', 'systemd', 'edge-metrics-exporter.service.template'), 'utf8'))?.[1]
  .trim()
  .split(' ')
  .filter(Boolean) ?? [];
// The YAML parser core reads configs with, reached through core so that the bench reads them as core does.
const YAML = createRequire(require.resolve('@edge-metrics/core'))('yaml');

/** What every measured exporter shares: a free loopback port for each listener, collection every second. */
const LOOPBACK_ANY_PORT = { port: 0, reload_port: 0, listen_address: '127.0.0.1', interval: 1 };

/**
 * Copies the synthetic plugin into `<workDir>/node_modules`, the folder the synthetic configs name in
 * `plugin_dirs`; returns that folder.
 */
async function installSyntheticPlugin(workDir) {
  const nodeModules = join(workDir, 'node_modules');
  await cp(join(__dirname, '..', 'synthetic-plugin'), join(nodeModules, 'edge-collector-synthetic'), { recursive: true });
  return nodeModules;
}

/**
 * The subjects by name. Each has a config, the folder the exporter runs in, and `ready`: text that is in the
 * exposition once the device's samples are (a first /metrics may come before the first cycle's).
 */
async function subjects(pluginDir) {
  const replay = YAML.parse(await readFile(join(JETSON_REPLAY, 'config.yaml'), 'utf8'));
  const synthetic = (series) => ({
    label: `synthetic ${series.toLocaleString('en-US')} series`,
    cwd: REPO,
    ready: 'synthetic_family0_watts{',
    config: {
      ...LOOPBACK_ANY_PORT,
      device_type: 'synthetic',
      plugin_dirs: [pluginDir],
      options: { series },
      metrics: Object.fromEntries(familyNames.map((name) => [name, true])),
    },
  });
  return {
    jetson: {
      label: 'Jetson replay',
      // The demo names its fake tegrastats relative to the repository root.
      cwd: REPO,
      ready: 'jetson_power_vdd_gpu_soc_watts{',
      config: { ...replay, ...LOOPBACK_ANY_PORT },
    },
    host: {
      label: 'host collector',
      cwd: REPO,
      ready: 'host_cpu_usage_percent{',
      config: {
        ...LOOPBACK_ANY_PORT,
        device_type: 'host',
        metrics: Object.fromEntries(hostPlugin.manifest.metrics.map((family) => [family.name, true])),
      },
    },
    synthetic100: synthetic(100),
    synthetic1000: synthetic(1000),
    synthetic10000: synthetic(10000),
  };
}

/** Writes the subject's config (JSON, which YAML reads) to `<workDir>/<name>/config.yaml`; returns its path. */
async function writeConfig(subject, name, workDir) {
  const dir = join(workDir, name);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'config.yaml');
  await writeFile(path, JSON.stringify(subject.config, null, 2) + '\n');
  return path;
}

/**
 * Starts core's CLI on a config with the unit's Node options (and `nodeArgs`, e.g. --cpu-prof); resolves once it
 * serves, with its pid, its /metrics URL and stop().
 */
async function startExporter(configPath, { cwd, name, nodeArgs = [] }) {
  const started = await startProcess(process.execPath, [...UNIT_NODE_FLAGS, ...nodeArgs, CLI, '--config', configPath], {
    cwd,
    name: `exporter ${name}`,
    ready: /serving \/metrics on (\S+):(\d+)/,
  });
  const [, address, port] = started.match;
  return { ...started, metricsUrl: `http://${address}:${port}/metrics` };
}

module.exports = { REPO, JETSON_REPLAY, UNIT_NODE_FLAGS, installSyntheticPlugin, subjects, writeConfig, startExporter };
