'use strict';
// The config server with a simulated fleet: every device holds a long-poll on its own config (GET ?wait=55 with
// If-None-Match, as the exporter does); then an operator changes the config of every device (one PUT each,
// a few at a time) and each device, once its long-poll answers with the new version, reports it applied.
// Figures: how many long-polls the server held at once (its own config_server_long_polls gauge), its memory
// then, and the time from the first PUT to the last device having the new config and having reported it. Then one
// group change for all of them (a single PUT /groups/{name}) and the time until the last device has it. Apart from
// that, with many registered devices (no long-polls): the time of a fleet change's preview (?dry_run=true) and of a
// group's membership listing. Last, the same fleet on two replicas sharing a throwaway PostgreSQL, half the devices
// long-polling each: one group change written through one replica, and the time until the last device of both has
// it, beside the one server on SQLite above.

const { randomBytes } = require('node:crypto');
const { mkdir, writeFile } = require('node:fs/promises');
const { Agent } = require('node:http');
const { join } = require('node:path');
const { checkStatus, expectStatus, request } = require('../lib/http');
const { startProcess } = require('../lib/processes');
const { cpuSeconds, memory } = require('../lib/proc-stats');
const { median } = require('../lib/stats');
const { REPO } = require('../lib/subjects');

const SERVER_CLI = join(REPO, 'config-server', 'dist', 'cli.js');
const { startThrowawayPostgres } = require(join(REPO, 'config-server', 'scripts', 'throwaway-postgres.js'));
const WAIT_SECONDS = 55;
/** How long the server may take to hold one batch of new long-polls. */
const HOLD_TIMEOUT_MS = 120_000;
/**
 * Devices that open their long-polls at once, the next batch once the server holds these: a whole fleet connecting
 * in the same millisecond overflows the server's accept queue (Node's listen backlog, 511), and a device whose
 * handshake the kernel dropped retries until its connection is reset (`read ECONNRESET`).
 */
const LONG_POLL_BATCH = 200;
/** How often a simulated device tries a request whose connection was reset or that was answered 503. */
const DEVICE_ATTEMPTS = 5;
const INITIAL_CONFIG = { device_type: 'host', interval: 5 };
const CHANGED_CONFIG = { device_type: 'host', interval: 10 };
/** A group over every simulated device, changing a key no device sets itself. */
const GROUP_CHANGE = { selector: { device_id: 'device-*' }, priority: 10, config: { labels: { ring: 'all' } } };
/** Timed layer reads are repeated and the median reported. */
const LAYER_RUNS = 3;

/** Runs `task` on every item with at most `concurrency` running at once. */
async function inPool(items, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** A config server process on `db` (default: a SQLite file in `dir`), with a token for each device. */
async function startServer(dir, devices, nodeArgs, db = join(dir, 'fleet.db'), adminToken = randomBytes(16).toString('hex')) {
  const tokensFile = join(dir, 'device-tokens');
  await writeFile(tokensFile, devices.map((device) => `${device.id}=${device.token}\n`).join(''), { mode: 0o600 });
  const server = await startProcess(process.execPath, [...nodeArgs, SERVER_CLI, '--port', '0', '--listen', '127.0.0.1', '--db', db, '--device-tokens', tokensFile], {
    name: 'config server',
    env: { ...process.env, CONFIG_SERVER_TOKEN: adminToken },
    ready: /listening on (http:\/\/\S+:\d+)/,
  });
  return { ...server, baseUrl: server.match[1], adminToken, admin: { Authorization: `Bearer ${adminToken}` } };
}

/** The server's gauge of held long-polls, read from its own /metrics. */
async function heldLongPolls(server, agent) {
  const { body } = await expectStatus(200, `${server.baseUrl}/metrics`, { headers: server.admin, agent });
  const match = /^config_server_long_polls (\d+)$/m.exec(body);
  if (!match) throw new Error('the config server\'s /metrics has no config_server_long_polls sample');
  return Number(match[1]);
}

/**
 * A device's request, made again as the exporter's sync would: at once when its keep-alive connection was reset
 * under it (the server closing an idle connection just as the device reuses it), a second later when the server
 * answered 503 (busy: retry later).
 */
async function deviceRequest(expected, url, options) {
  for (let attempt = 1; ; attempt++) {
    const response = await request(url, options).catch((error) => {
      if (error.code !== 'ECONNRESET' || attempt === DEVICE_ATTEMPTS) throw error;
      return undefined;
    });
    if (response?.status === 503 && attempt < DEVICE_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 1000));
    else if (response) return checkStatus(expected, response, url, options);
  }
}

/**
 * A device that runs version 1: long-polls its config until it gets `version`, then reports it applied; returns
 * when each happened, in ms after the change started.
 */
async function followUntil(device, version, server, agent, changeStartedAt, fromVersion = 1) {
  const headers = { Authorization: `Bearer ${device.token}`, 'X-Config-Source': 'device' };
  let etag = `"${fromVersion}"`;
  while (etag !== `"${version}"`) {
    const response = await deviceRequest([200, 304], `${server.baseUrl}/config/${device.id}?wait=${WAIT_SECONDS}`, {
      headers: { ...headers, 'If-None-Match': etag },
      agent,
      timeoutMs: (WAIT_SECONDS + 30) * 1000,
    });
    etag = response.headers.etag;
  }
  const receivedMs = performance.now() - changeStartedAt();
  await deviceRequest(200, `${server.baseUrl}/devices/${device.id}/status`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ version, status: 'applied' }),
    agent,
  });
  return { receivedMs, appliedMs: performance.now() - changeStartedAt() };
}

/**
 * Starts `follow(device, index)` for every device, LONG_POLL_BATCH at a time, each batch once `held()` (the servers'
 * gauge) counts every long-poll started before it. Resolves with each device's promise once all are held; a device
 * whose request failed ends the wait at once.
 */
async function holdLongPolls(devices, follow, held, what) {
  const following = [];
  let failure;
  for (let start = 0; start < devices.length; start += LONG_POLL_BATCH) {
    devices.slice(start, start + LONG_POLL_BATCH).forEach((device, offset) => {
      const promise = follow(device, start + offset);
      promise.catch((error) => (failure ??= error));
      following.push(promise);
    });
    const batchStartedAt = performance.now();
    let count = 0;
    while (count < following.length) {
      if (failure) throw failure;
      if (performance.now() - batchStartedAt > HOLD_TIMEOUT_MS) throw new Error(`${what} held ${count} of ${following.length} long-polls after ${HOLD_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      count = await held();
    }
  }
  return following;
}

async function fleet(deviceCount, { workDir, options, log }) {
  const dir = join(workDir, `config-server-${deviceCount}`);
  await mkdir(dir, { recursive: true });
  const devices = Array.from({ length: deviceCount }, (_, index) => ({ id: `device-${index}`, token: randomBytes(16).toString('hex') }));
  const server = await startServer(dir, devices, options.nodeArgs);
  const deviceAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const adminAgent = new Agent({ keepAlive: true, maxSockets: options.putConcurrency });
  try {
    const json = { ...server.admin, 'Content-Type': 'application/json' };
    await inPool(devices, options.putConcurrency, (device) =>
      expectStatus(201, `${server.baseUrl}/config/${device.id}`, { method: 'PUT', headers: json, body: JSON.stringify(INITIAL_CONFIG), agent: adminAgent }),
    );

    let changeStartedAt;
    const holdStartedAt = performance.now();
    const following = await holdLongPolls(
      devices,
      (device) => followUntil(device, 2, server, deviceAgent, () => changeStartedAt),
      () => heldLongPolls(server, adminAgent),
      'the config server',
    );
    const held = await heldLongPolls(server, adminAgent);
    const holdSeconds = (performance.now() - holdStartedAt) / 1000;
    const { rssBytes } = memory(server.pid);
    // The server holding every long-poll and nothing else happening: what each held poll costs it.
    const cpuBefore = cpuSeconds(server.pid);
    const idleStartedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.pollIdleSeconds * 1000));
    const idleSeconds = (performance.now() - idleStartedAt) / 1000;
    const idleCpuSeconds = cpuSeconds(server.pid) - cpuBefore;

    changeStartedAt = performance.now();
    const puts = inPool(devices, options.putConcurrency, (device) =>
      expectStatus(200, `${server.baseUrl}/config/${device.id}`, { method: 'PUT', headers: json, body: JSON.stringify(CHANGED_CONFIG), agent: adminAgent }),
    );
    const [outcomes, putsDoneMs] = await Promise.all([Promise.all(following), puts.then(() => performance.now() - changeStartedAt)]);
    const received = outcomes.map((outcome) => outcome.receivedMs);

    // One group change for the whole fleet: a single PUT, every long-poll woken with version 3.
    let groupStartedAt;
    const followingGroup = await holdLongPolls(
      devices,
      (device) => followUntil(device, 3, server, deviceAgent, () => groupStartedAt, 2),
      () => heldLongPolls(server, adminAgent),
      'the config server',
    );
    groupStartedAt = performance.now();
    await expectStatus(200, `${server.baseUrl}/groups/all`, { method: 'PUT', headers: json, body: JSON.stringify(GROUP_CHANGE), agent: adminAgent });
    const groupReceived = (await Promise.all(followingGroup)).map((outcome) => outcome.receivedMs);
    const result = {
      devices: deviceCount,
      held,
      holdSeconds,
      serverRssWhileHoldingBytes: rssBytes,
      idleSeconds,
      idleCorePercent: (idleCpuSeconds / idleSeconds) * 100,
      idleCpuMicrosPerPollSecond: (idleCpuSeconds * 1e6) / idleSeconds / deviceCount,
      putsDoneMs,
      allReceivedMs: Math.max(...received),
      medianReceivedMs: median(received),
      allAppliedMs: Math.max(...outcomes.map((outcome) => outcome.appliedMs)),
      groupAllReceivedMs: Math.max(...groupReceived),
      groupMedianReceivedMs: median(groupReceived),
    };
    log(`config server, ${deviceCount} devices: ${held} long-polls held after ${holdSeconds.toFixed(1)} s, server RSS ${(rssBytes / 2 ** 20).toFixed(1)} MiB, ${result.idleCpuMicrosPerPollSecond.toFixed(2)} µs of CPU per idle poll and second; a change on all reached all in ${result.allReceivedMs.toFixed(0)} ms, all reported applied in ${result.allAppliedMs.toFixed(0)} ms; one group change reached all in ${result.groupAllReceivedMs.toFixed(0)} ms`);
    return result;
  } finally {
    deviceAgent.destroy();
    adminAgent.destroy();
    await server.stop();
  }
}

/** The median time of `runs` calls of `task`, in ms. */
async function medianMs(runs, task) {
  const times = [];
  for (let run = 0; run < runs; run++) {
    const startedAt = performance.now();
    await task();
    times.push(performance.now() - startedAt);
  }
  return median(times);
}

/** Many registered devices, none polling: how long a fleet change's preview and a group's membership listing take. */
async function registered(deviceCount, { workDir, options, log }) {
  const dir = join(workDir, `config-server-registered-${deviceCount}`);
  await mkdir(dir, { recursive: true });
  const devices = Array.from({ length: deviceCount }, (_, index) => ({ id: `device-${index}`, token: randomBytes(16).toString('hex') }));
  const server = await startServer(dir, devices, options.nodeArgs);
  const agent = new Agent({ keepAlive: true, maxSockets: options.putConcurrency });
  try {
    const json = { ...server.admin, 'Content-Type': 'application/json' };
    await inPool(devices, options.putConcurrency, (device) =>
      expectStatus(201, `${server.baseUrl}/config/${device.id}`, { method: 'PUT', headers: json, body: JSON.stringify(INITIAL_CONFIG), agent }),
    );
    // A tenth of the fleet: device-1, device-10…device-19, device-100…
    await expectStatus(200, `${server.baseUrl}/groups/tenth`, { method: 'PUT', headers: json, body: JSON.stringify({ selector: { device_id: 'device-1*' }, config: { interval: 15 } }), agent });
    let affected = 0;
    const previewMs = await medianMs(LAYER_RUNS, async () => {
      const { body } = await expectStatus(200, `${server.baseUrl}/fleet?dry_run=true`, { method: 'PUT', headers: json, body: JSON.stringify({ interval: 30, labels: { site: 'hq' } }), agent });
      affected = JSON.parse(body).devices.length;
    });
    let members = 0;
    const membershipMs = await medianMs(LAYER_RUNS, async () => {
      const { body } = await expectStatus(200, `${server.baseUrl}/groups/tenth/devices`, { headers: server.admin, agent });
      members = JSON.parse(body).devices.length;
    });
    const { rssBytes } = memory(server.pid);
    log(`config server, ${deviceCount} registered devices: preview of a fleet change (${affected} affected) ${previewMs.toFixed(0)} ms, membership of a group (${members}) ${membershipMs.toFixed(0)} ms`);
    return { devices: deviceCount, previewMs, affected, membershipMs, members, serverRssBytes: rssBytes };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

/**
 * Two replicas on one PostgreSQL database, each holding the long-polls of half the devices: one group change written
 * through the first, and the time until the last device (of either replica) has it.
 */
async function replicas(deviceCount, { workDir, options, log }) {
  const dir = join(workDir, `config-server-replicas-${deviceCount}`);
  await mkdir(dir, { recursive: true });
  const devices = Array.from({ length: deviceCount }, (_, index) => ({ id: `device-${index}`, token: randomBytes(16).toString('hex') }));
  const postgres = await startThrowawayPostgres();
  const servers = [];
  const deviceAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const adminAgent = new Agent({ keepAlive: true, maxSockets: options.putConcurrency });
  try {
    const db = await postgres.createDatabase();
    servers.push(await startServer(dir, devices, options.nodeArgs, db));
    servers.push(await startServer(dir, devices, options.nodeArgs, db, servers[0].adminToken));
    const [first] = servers;
    const json = { ...first.admin, 'Content-Type': 'application/json' };
    await inPool(devices, options.putConcurrency, (device) =>
      expectStatus(201, `${first.baseUrl}/config/${device.id}`, { method: 'PUT', headers: json, body: JSON.stringify(INITIAL_CONFIG), agent: adminAgent }),
    );
    let startedAt;
    const following = await holdLongPolls(
      devices,
      (device, index) => followUntil(device, 2, servers[index % 2], deviceAgent, () => startedAt),
      async () => (await heldLongPolls(servers[0], adminAgent)) + (await heldLongPolls(servers[1], adminAgent)),
      'the two replicas',
    );
    startedAt = performance.now();
    await expectStatus(200, `${first.baseUrl}/groups/all`, { method: 'PUT', headers: json, body: JSON.stringify(GROUP_CHANGE), agent: adminAgent });
    const received = (await Promise.all(following)).map((outcome) => outcome.receivedMs);
    const result = { devices: deviceCount, replicas: servers.length, groupAllReceivedMs: Math.max(...received), groupMedianReceivedMs: median(received) };
    log(`config server, ${deviceCount} devices over 2 replicas on PostgreSQL: one group change reached all in ${result.groupAllReceivedMs.toFixed(0)} ms`);
    return result;
  } finally {
    deviceAgent.destroy();
    adminAgent.destroy();
    for (const server of servers) await server.stop();
    await postgres.stop();
  }
}

async function configServer(context) {
  const fleets = {};
  const replicaFleets = {};
  for (const count of context.options.fleetSizes) fleets[count] = await fleet(count, context);
  for (const count of context.options.fleetSizes) replicaFleets[count] = await replicas(count, context);
  return { fleets, replicaFleets, registered: await registered(context.options.registeredDevices, context) };
}

module.exports = { configServer };
