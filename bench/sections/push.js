'use strict';
// The push path (remote_write) into a local VictoriaMetrics: what it adds to the CPU of a collection cycle (cycles
// back to back in one process, see probes/push-cycle.js) and to the exporter's CPU at interval 1, beside what a user would otherwise run next to a pull-only exporter (vmagent, Prometheus in agent mode, each
// scraping the exporter every second and remote-writing to the same receiver); and how fast a queued backlog
// drains once the receiver is back, with the disk it took.

const { execFileSync } = require('node:child_process');
const { mkdir, readdir, stat, writeFile } = require('node:fs/promises');
const { join } = require('node:path');
const { waitForExposition } = require('../lib/exposition');
const { freePort, request } = require('../lib/http');
const { runJsonScript, startProcess } = require('../lib/processes');
const { cpuSeconds, memory } = require('../lib/proc-stats');
const { REPO, startExporter, writeConfig } = require('../lib/subjects');

// Core's push modules, not part of its public exports: reached by path, as built by `tsc --build`.
const { CycleEncoder, compressBlock } = require(join(REPO, 'core', 'dist', 'push', 'encode.js'));
const { SegmentQueue } = require(join(REPO, 'core', 'dist', 'push', 'queue.js'));

const SETTLE_MS = 5000;
const DEVICE_ID = 'bench-orin';
/** Cycles appended to the backlog between two closes of the queue: its memory buffer stays small. */
const CYCLES_PER_WRITE = 500;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function ensureBinaries() {
  const missing = ['victoria-metrics', 'vmagent', 'prometheus'].filter((binary) => {
    try {
      execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new Error(`the push section needs ${missing.join(', ')}: apt-get install -y victoria-metrics prometheus (as root), or run without the push section`);
}

async function startVictoriaMetrics(workDir, port) {
  const started = await startProcess('victoria-metrics', [`-storageDataPath=${join(workDir, 'vm-data')}`, `-httpListenAddr=127.0.0.1:${port}`, '-search.latencyOffset=0s', '-retentionPeriod=1y'], {
    name: 'victoria-metrics',
    ready: /starting http server at/,
  });
  return { ...started, url: `http://127.0.0.1:${port}` };
}

async function startVmagent(workDir, target, receiverUrl) {
  const dir = join(workDir, 'vmagent');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'scrape.yml'), `scrape_configs:\n  - job_name: vmagent\n    scrape_interval: 1s\n    static_configs: [{targets: ["${target}"]}]\n`);
  const port = await freePort();
  return startProcess('vmagent', [`-promscrape.config=${join(dir, 'scrape.yml')}`, `-remoteWrite.url=${receiverUrl}/api/v1/write`, `-remoteWrite.tmpDataPath=${join(dir, 'queue')}`, `-httpListenAddr=127.0.0.1:${port}`], {
    name: 'vmagent',
    ready: /started vmagent in/,
  });
}

async function startPrometheusAgent(workDir, target, receiverUrl) {
  const dir = join(workDir, 'prometheus-agent');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'prometheus.yml'),
    `scrape_configs:\n  - job_name: prometheus-agent\n    scrape_interval: 1s\n    static_configs: [{targets: ["${target}"]}]\nremote_write:\n  - url: ${receiverUrl}/api/v1/write\n`,
  );
  const port = await freePort();
  return startProcess('prometheus', ['--enable-feature=agent', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.agent.path=${join(dir, 'wal')}`, `--web.listen-address=127.0.0.1:${port}`], {
    name: 'prometheus agent',
    ready: /Server is ready to receive web requests/,
  });
}

/** A self-metric of the exporter: the sample of `name` whose line holds every one of `labels`. */
async function selfMetric(metricsUrl, name, ...labels) {
  const { body } = await request(metricsUrl, { timeoutMs: 5000 });
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && labels.every((label) => candidate.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The exposition's sample lines as families for core's encoder (one family a line: the encoder needs no more). */
function familiesOf(text) {
  const families = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value]);
    families.push({ name: match[1], help: '', type: 'untyped', samples: [{ name: match[1], labels, value: Number(match[3]) }] });
  }
  return families;
}

/**
 * Writes a backlog of `seconds` cycles of `exposition`, one a second up to now, into a receiver's queue folder as
 * the exporter does while its receiver is away; returns the samples written.
 */
async function writeBacklog(dir, exposition, seconds) {
  const families = familiesOf(exposition);
  const perCycle = families.length;
  const encoder = new CycleEncoder([['instance', DEVICE_ID], ['job', 'edge-power']]);
  const now = Date.now();
  const limits = { maxBytes: 2 ** 40, maxAgeMs: 7 * 86_400_000 };
  const events = { dropped: (reason) => { throw new Error(`backlog dropped (${reason})`); }, repaired: () => undefined };
  for (let first = 0; first < seconds; first += CYCLES_PER_WRITE) {
    const queue = await SegmentQueue.open(dir, limits, events);
    for (let cycle = first; cycle < Math.min(seconds, first + CYCLES_PER_WRITE); cycle++) {
      for (const family of families) family.samples[0].value += 1;
      const timestampMs = now - (seconds - cycle) * 1000;
      queue.append(compressBlock(encoder.encode(families, timestampMs).writeRequest), perCycle, timestampMs);
    }
    await queue.close();
  }
  return perCycle * seconds;
}

/** The timestamps (ms) of `power_total_watts` that the receiver holds for `job`. */
async function receivedTimestamps(receiverUrl, job) {
  const { body } = await request(`${receiverUrl}/api/v1/export?match[]=${encodeURIComponent(`power_total_watts{job="${job}"}`)}`, { timeoutMs: 10_000 });
  return body.split('\n').filter(Boolean).flatMap((line) => JSON.parse(line).timestamps);
}

/**
 * The receiver stopped for `outageSeconds`, then back: for each pusher, the time until the receiver holds a sample
 * collected after its return (each sends in order, so the backlog went before it), and the samples of the outage it
 * got (one a second is all of them).
 */
async function outage(running, workDir, port, outageSeconds, log) {
  const receiverUrl = running.vm.url;
  await running.vm.stop();
  const downAt = Date.now();
  log(`push: the receiver down for ${outageSeconds} s, the exporter, vmagent and the Prometheus agent queueing`);
  await sleep(outageSeconds * 1000);
  running.vm = await startVictoriaMetrics(workDir, port);
  const backAt = Date.now();
  const pushers = { ours: 'edge-power', vmagent: 'vmagent', prometheusAgent: 'prometheus-agent' };
  const results = {};
  const deadline = backAt + 5 * 60_000;
  while (Object.keys(results).length < Object.keys(pushers).length && Date.now() < deadline) {
    for (const [name, job] of Object.entries(pushers)) {
      if (results[name]) continue;
      const timestamps = await receivedTimestamps(receiverUrl, job).catch(() => []);
      if (timestamps.some((at) => at >= backAt)) {
        results[name] = { catchUpSeconds: (Date.now() - backAt) / 1000, outageSamples: new Set(timestamps.filter((at) => at >= downAt && at < backAt)).size };
      }
    }
    await sleep(200);
  }
  for (const name of Object.keys(pushers)) results[name] ??= { catchUpSeconds: undefined, outageSamples: undefined };
  return { outageSeconds, ...results };
}

async function folderBytes(dir) {
  const files = await readdir(dir);
  return (await Promise.all(files.map((file) => stat(join(dir, file))))).reduce((sum, file) => sum + file.size, 0);
}

async function push({ subjects, workDir, options, log }) {
  ensureBinaries();
  const jetson = subjects.jetson;
  const running = {};
  try {
    const receiverPort = await freePort();
    running.vm = await startVictoriaMetrics(workDir, receiverPort);
    const receiver = running.vm.url;

    log('push: the CPU per cycle of the push path, the Jetson replay\'s cycles back to back in one process, scrape-only and pushing');
    const probeInput = JSON.stringify({ config: await writeConfig(jetson, 'push-cycle', workDir), receiverUrl: `${receiver}/api/v1/write`, workDir });
    const perCycle = await runJsonScript(join(__dirname, '..', 'probes', 'push-cycle.js'), [probeInput], { cwd: REPO, nodeArgs: options.nodeArgs });
    log(`push: ${perCycle.pushMicros.toFixed(0)} µs of CPU per cycle (${(perCycle.pushMicros / perCycle.bareLoopCpuMicros).toFixed(0)}× a bare loop turn)`);

    // CPU and RSS at interval 1: scrape-only, the same with remote_write, and the agents a user would add instead.
    log(`push: the Jetson replay scrape-only and pushing to VictoriaMetrics side by side, with vmagent and a Prometheus agent scraping the first, for ${options.idleSeconds} s`);
    const pushConfig = { ...jetson, config: { ...jetson.config, device_id: DEVICE_ID, remote_write: [{ url: `${receiver}/api/v1/write`, name: 'vm' }] } };
    running.scrapeOnly = await startExporter(await writeConfig(jetson, 'push-scrape-only', workDir), { cwd: jetson.cwd, name: 'scrape-only', nodeArgs: options.nodeArgs });
    running.pushing = await startExporter(await writeConfig(pushConfig, 'push-pushing', workDir), { cwd: jetson.cwd, name: 'pushing', nodeArgs: options.nodeArgs });
    for (const name of ['scrapeOnly', 'pushing']) await waitForExposition(running[name].metricsUrl, { marker: jetson.ready });
    const target = new URL(running.scrapeOnly.metricsUrl).host;
    running.vmagent = await startVmagent(workDir, target, receiver);
    running.prometheusAgent = await startPrometheusAgent(workDir, target, receiver);
    await sleep(SETTLE_MS);
    const measured = ['scrapeOnly', 'pushing', 'vmagent', 'prometheusAgent'];
    const before = Object.fromEntries(measured.map((name) => [name, { cpu: cpuSeconds(running[name].pid), at: performance.now() }]));
    await sleep(options.idleSeconds * 1000);
    const steady = {};
    for (const name of measured) {
      const windowSeconds = (performance.now() - before[name].at) / 1000;
      const used = cpuSeconds(running[name].pid) - before[name].cpu;
      steady[name] = { windowSeconds, cpuSeconds: used, corePercent: (used / windowSeconds) * 100, ...memory(running[name].pid) };
    }
    const sent = await selfMetric(running.pushing.metricsUrl, 'edge_remote_write_samples_sent_total', 'receiver="vm"');
    const extraCorePercent = steady.pushing.corePercent - steady.scrapeOnly.corePercent;
    log(`push: extra CPU of pushing ${extraCorePercent.toFixed(3)} % of a core (${sent} samples sent); vmagent ${steady.vmagent.corePercent.toFixed(2)} %, Prometheus agent ${steady.prometheusAgent.corePercent.toFixed(2)} %`);
    const exposition = (await request(running.scrapeOnly.metricsUrl)).body;
    const outageResults = await outage(running, workDir, receiverPort, options.outageSeconds, log);
    log(`push: catch-up after ${options.outageSeconds} s down: ${['ours', 'vmagent', 'prometheusAgent'].map((name) => `${name} ${outageResults[name].catchUpSeconds?.toFixed(1) ?? 'not'} s`).join(', ')}`);
    for (const name of ['pushing', 'vmagent', 'prometheusAgent']) {
      await running[name].stop();
      delete running[name];
    }

    // Catch-up: a backlog of `backlogSeconds` cycles in the queue, then an exporter pushing to the receiver.
    const queueDir = join(workDir, 'push-backlog');
    log(`push: writing a backlog of ${options.backlogSeconds} cycles of the Jetson replay`);
    const backlogSamples = await writeBacklog(queueDir, exposition, options.backlogSeconds);
    const diskBytes = await folderBytes(queueDir);
    const drainConfig = { ...jetson, config: { ...jetson.config, device_id: DEVICE_ID, remote_write: [{ url: `${receiver}/api/v1/write`, name: 'vm', queue: { dir: queueDir } }] } };
    const started = performance.now();
    running.draining = await startExporter(await writeConfig(drainConfig, 'push-draining', workDir), { cwd: jetson.cwd, name: 'draining', nodeArgs: options.nodeArgs });
    // Drained: what is left is the last seconds, waiting for a batch to fill (batch_send_deadline, 5 s).
    for (;;) {
      const age = await selfMetric(running.draining.metricsUrl, 'edge_remote_write_oldest_pending_age_seconds', 'receiver="vm"').catch(() => undefined);
      if (age !== undefined && age < 10) break;
      if (performance.now() - started > 30 * 60_000) throw new Error('the backlog did not drain within 30 minutes');
      await sleep(100);
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const drainRss = memory(running.draining.pid).peakRssBytes;
    const catchUp = { backlogSeconds: options.backlogSeconds, backlogSamples, diskBytes, bytesPerSample: diskBytes / backlogSamples, drainSeconds, samplesPerSecond: backlogSamples / drainSeconds, peakRssBytes: drainRss };
    log(`push: ${backlogSamples} samples drained in ${drainSeconds.toFixed(1)} s (${Math.round(catchUp.samplesPerSecond)} samples/s), ${catchUp.bytesPerSample.toFixed(1)} bytes a queued sample`);
    return { perCycle, steady, extraCorePercent, sentInWindow: sent, outage: outageResults, catchUp };
  } finally {
    await Promise.all(Object.values(running).map((child) => child.stop()));
  }
}

module.exports = { push };
