'use strict';
// A demo fleet written through the config server's HTTP API, as devices and an operator would, on a server of its
// own: for the console's browser tests, its screenshots and its timing with 1,000 devices.

const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The built CLI on a free loopback port with a throwaway database and `token`; resolves once it listens. */
function startDemoServer(token, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'console-demo-'));
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), '--port', '0', '--listen', '127.0.0.1', '--db', join(dir, 'fleet.db'), ...args], {
    env: { PATH: process.env.PATH, CONFIG_SERVER_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
      if (port) resolve({ base: `http://127.0.0.1:${port}`, stop });
    });
    child.once('exit', (code) => reject(new Error(`the config server exited (${code}): ${stderr}`)));
  });
}

const TYPES = [
  ['jetson', 'jetson_orin', ['jetson_power_vdd_gpu_soc_watts', 'jetson_power_vdd_cpu_cv_watts', 'jetson_temp_cpu_celsius']],
  ['pi', 'raspberrypi', ['power_total_watts', 'ina260_voltage_volts']],
  ['panda', 'lattepanda', ['power_total_watts', 'energy_joules_total', 'rapl_package_watts']],
];

/** `count` devices spread over three types, ids like `jetson-001`; every seventh is in the `canary` ring. */
function demoDevices(count) {
  const width = String(count).length < 2 ? 2 : String(count).length;
  return Array.from({ length: count }, (_, index) => {
    const [prefix, type, metrics] = TYPES[index % TYPES.length];
    const number = String(Math.floor(index / TYPES.length) + 1).padStart(width, '0');
    return {
      id: `${prefix}-${number}`,
      type,
      metrics,
      address: `10.0.${Math.floor(index / 250)}.${(index % 250) + 2}`,
      tags: index % 7 === 0 ? { ring: 'canary' } : {},
    };
  });
}

async function send(base, token, method, path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Registers each device as the exporter does (its config, then its type, port and address, then `applied` on its
 * version, or `failed` with `failed[id]` as the error), sets tags, and writes a fleet layer and two groups.
 */
async function seedFleet(base, token, devices, failed = {}) {
  await send(base, token, 'PUT', '/fleet', { interval: 5, labels: { fleet: 'solar-farm' }, metrics: { power_total_watts: true } });
  await send(base, token, 'PUT', '/groups/jetsons', { selector: { device_type: 'jetson_orin' }, priority: 10, config: { interval: 2 } });
  await send(base, token, 'PUT', '/groups/canary', { selector: { tags: { ring: 'canary' } }, priority: 20, config: { log_level: 'debug' } });
  const queue = [...devices];
  const worker = async () => {
    for (let device = queue.shift(); device; device = queue.shift()) {
      const metrics = Object.fromEntries(device.metrics.map((name) => [name, true]));
      const path = `/config/${encodeURIComponent(device.id)}`;
      await send(base, token, 'PUT', path, { device_type: device.type, metrics }, { 'X-Config-Source': 'device', 'If-None-Match': '*' });
      if (Object.keys(device.tags).length > 0) await send(base, token, 'PUT', `/devices/${encodeURIComponent(device.id)}/tags`, { tags: device.tags });
      const where = { device_type: device.type, metrics_port: 9100, address: device.address };
      // Its reported type may select it into a group: the version it then reports on is the one that answer gives.
      const { version } = await send(base, token, 'POST', `/devices/${encodeURIComponent(device.id)}/status`, where);
      const error = failed[device.id];
      await send(base, token, 'POST', `/devices/${encodeURIComponent(device.id)}/status`, { ...where, version, ...(error === undefined ? { status: 'applied' } : { status: 'failed', error }) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

module.exports = { demoDevices, seedFleet, startDemoServer };
