'use strict';
// The results as the rows of one table: figure, subject, value, the peer it is compared with, target, verdict.

const { TARGETS, verdict, MIB } = require('./targets');

const HEADER = ['figure', 'subject', 'value', 'compared with', 'target', 'verdict'];
/** node_exporter serves about 500 series: the per-scrape target compares like with like up to here. */
const COMPARABLE_SERIES = 2000;

const number = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value) => `${number(value, value < 10 ? 2 : 0)} ms`;
const mib = (bytes) => `${number(bytes / MIB, 1)} MiB`;
const kib = (bytes) => `${bytes >= 0 ? '+' : ''}${number(bytes / 1024, 0)} KiB`;
const times = (ratio) => `${number(ratio, ratio < 10 ? 2 : 1)}×`;

/** A row with a target: the verdict is worked out from `value`. */
function judged(figure, subject, shown, compared, target, value) {
  return [figure, subject, shown, compared, target.text, verdict(value, target)];
}

function plain(figure, subject, shown, compared = '') {
  return [figure, subject, shown, compared, '', ''];
}

function scrapeRows({ nodeExporter, subjects }) {
  const rows = [];
  for (const [name, result] of Object.entries(subjects)) {
    const subject = `${result.label}: ${number(result.series)} series`;
    const { ours, bare } = result;
    const vsNodeExporter = `${times(result.perScrapeVsNodeExporter)} node_exporter, ${times(result.perSeriesVsNodeExporter)} per series`;
    rows.push(
      result.series <= COMPARABLE_SERIES
        ? judged('GET /metrics req/s', subject, number(ours.requestsPerSecond), vsNodeExporter, TARGETS.vsNodeExporter, result.perScrapeVsNodeExporter)
        : plain('GET /metrics req/s', subject, number(ours.requestsPerSecond), vsNodeExporter),
      judged('', '', '', `${times(result.vsBare)} bare node:http (${number(bare.requestsPerSecond)} req/s)`, TARGETS.vsBare, result.vsBare),
    );
    const { oursGzip, bareGzip } = result;
    rows.push(
      plain('  bytes per scrape, plain / gzip', '', `${number(result.bytes)} / ${number(result.gzipBytes)}`, `gzip is ${number((100 * result.gzipBytes) / result.bytes, 0)} % of plain`),
      judged('  req/s with gzip', '', number(oursGzip.requestsPerSecond), `${times(result.gzipVsBare)} bare node:http, same gzip bytes (${number(bareGzip.requestsPerSecond)} req/s); p99 ${ms(oursGzip.p99Ms)}`, TARGETS.vsBare, result.gzipVsBare),
    );
    const latency = `${ms(ours.p50Ms)} / ${ms(ours.p99Ms)}`;
    const bareLatency = `bare: ${ms(bare.p50Ms)} / ${ms(bare.p99Ms)}`;
    rows.push(name === 'synthetic1000' ? judged('  p50 / p99', '', latency, bareLatency, TARGETS.p99At1000SeriesMs, ours.p99Ms) : plain('  p50 / p99', '', latency, bareLatency));
    const afterLoad = mib(ours.rssAfterBytes);
    const context = `before ${mib(ours.rssBeforeBytes)}, peak ${mib(ours.peakRssBytes)}`;
    const device = name === 'jetson' || name === 'host';
    rows.push(device ? judged('  RSS after load', '', afterLoad, context, TARGETS.rssAfterLoadBytes, ours.rssAfterBytes) : plain('  RSS after load', '', afterLoad, context));
  }
  const version = nodeExporter.version.replace(/^node_exporter, version (\S+).*/, '$1');
  rows.push(
    plain('GET /metrics req/s', `node_exporter ${version}: ${number(nodeExporter.series)} series`, number(nodeExporter.requestsPerSecond), `first / last run: ${nodeExporter.runs.map((run) => number(run.requestsPerSecond)).join(' / ')}`),
    plain('  p50 / p99', '', `${ms(nodeExporter.p50Ms)} / ${ms(nodeExporter.p99Ms)}`),
  );
  return rows;
}

function steadyRows(results) {
  const rows = [];
  const floor = results.bareNode;
  const difference = (value, floorValue, format) => `bare Node: ${format(floorValue)}; difference ${format(value - floorValue)}`;
  const percentOfCore = (value) => `${number(value, 2)} %`;
  for (const [name, result] of Object.entries(results)) {
    if (name === 'bareNode') continue;
    result.windows.forEach((window, index) => {
      const figure = index === 0 ? 'CPU, idle at interval: 1' : '';
      const subject = index === 0 ? result.label : '';
      const cpu = `${number(window.cpuSecondsPerHour, 1)} CPU s/h = ${percentOfCore(window.corePercent)} over ${number(window.windowSeconds)} s`;
      const compared = `${difference(window.corePercent, floor.windows[index].corePercent, percentOfCore)}; from ${number(result.windowStartSeconds, 1)} s after start`;
      rows.push(judged(figure, subject, cpu, compared, TARGETS.idleCorePercent, window.corePercent));
    });
    rows.push(
      judged('  RSS idle', '', mib(result.rssBytes), difference(result.rssBytes, floor.rssBytes, mib), TARGETS.rssIdleBytes, result.rssBytes),
      judged('  peak RSS since start', '', mib(result.peakRssBytes), difference(result.peakRssBytes, floor.peakRssBytes, mib), TARGETS.peakRssBytes, result.peakRssBytes),
    );
  }
  return rows;
}

function startupRows(results) {
  return Object.values(results).map((result) =>
    judged('start-up to first /metrics', result.label, ms(result.firstMetricsMs), `with the device's samples: ${ms(result.firstSamplesMs)}`, TARGETS.startupMs, result.firstMetricsMs),
  );
}

function hotPathRows({ parsing, bareLoopCpuMicros, cycles, management }) {
  const rows = [plain('tegrastats line parsed', 'Jetson replay', `${number(parsing.parseNs / 1000, 1)} µs`, `line to samples: ${number(parsing.lineToSamplesNs / 1000, 1)} µs`)];
  for (const result of Object.values(cycles)) {
    rows.push(plain('collection cycle', result.label, `${ms(result.cycle.medianMs)}, p99 ${ms(result.cycle.p99Ms)}`, `+ first scrape after it (self-metrics, render): ${ms(Math.max(0, result.render.medianMs))}`));
  }
  for (const result of Object.values(cycles)) {
    const ratio = result.cpuMicros / bareLoopCpuMicros;
    rows.push(plain('CPU per cycle, unscraped', result.label, `${number(result.cpuMicros)} µs`, `${number(ratio, 0)}× a bare loop turn (${number(bareLoopCpuMicros, 1)} µs)`));
  }
  rows.push(
    plain('config reload', 'Jetson replay', `${ms(management.reload.medianMs)}, p99 ${ms(management.reload.p99Ms)}`, 'collectors unchanged'),
    plain('POST /metrics/enable', 'Jetson replay', `${ms(management.enable.medianMs)}, p99 ${ms(management.enable.p99Ms)}`, 'round trip with the atomic write'),
  );
  return rows;
}

function heapRows(results) {
  return Object.values(results).map((result) =>
    judged(`heap growth, ${number(result.cycles)} cycles`, result.label, `${kib(result.secondHalfGrowthBytes)} in the last half`, `${kib(result.growthBytes)} in all, after ${number(result.warmupCycles)} warm-up cycles`, TARGETS.heapSecondHalfGrowthBytes, result.secondHalfGrowthBytes),
  );
}

function configServerRows({ fleets, replicaFleets = {}, registered }) {
  const rows = [];
  for (const result of Object.values(fleets)) {
    const subject = `${number(result.devices)} devices`;
    const reach = ['  PUT on each → all have it', subject, ms(result.allReceivedMs), `median device ${ms(result.medianReceivedMs)}; all reported applied: ${ms(result.allAppliedMs)}`];
    const group = ['  one group change → all have it', subject, ms(result.groupAllReceivedMs), `median device ${ms(result.groupMedianReceivedMs)}; PUT on each: ${ms(result.allReceivedMs)}`];
    rows.push(
      plain('long-polls held at once', subject, number(result.held), `all held ${number(result.holdSeconds, 2)} s after the first`),
      plain('  server RSS holding them', subject, mib(result.serverRssWhileHoldingBytes)),
      plain('  CPU per idle long-poll', subject, `${number(result.idleCpuMicrosPerPollSecond, 2)} µs/s`, `the server at ${number(result.idleCorePercent, 2)} % of a core over ${number(result.idleSeconds)} s, nothing changing`),
      result.devices >= 1000 ? judged(...reach, TARGETS.configReachMs, result.allReceivedMs) : plain(...reach),
      result.devices >= 1000 ? judged(...group, TARGETS.groupReachMs, result.groupAllReceivedMs) : plain(...group),
    );
  }
  for (const result of Object.values(replicaFleets)) {
    const subject = `${number(result.devices)} devices, ${result.replicas} replicas on PostgreSQL`;
    const sqlite = fleets[result.devices];
    const row = ['  one group change → all have it', subject, ms(result.groupAllReceivedMs), `median device ${ms(result.groupMedianReceivedMs)}${sqlite ? `; one server on SQLite: ${ms(sqlite.groupAllReceivedMs)}` : ''}`];
    rows.push(result.devices >= 1000 ? judged(...row, TARGETS.configReachMs, result.groupAllReceivedMs) : plain(...row));
  }
  const subject = `${number(registered.devices)} registered devices`;
  const judgedAtScale = (row, value) => (registered.devices >= 10_000 ? judged(...row, TARGETS.layerQueryMs, value) : plain(...row));
  rows.push(
    judgedAtScale(['preview of a fleet change', subject, ms(registered.previewMs), `${number(registered.affected)} devices affected; median of 3; server RSS ${mib(registered.serverRssBytes)}`], registered.previewMs),
    judgedAtScale(['group membership listing', subject, ms(registered.membershipMs), `${number(registered.members)} members; median of 3`], registered.membershipMs),
  );
  return rows;
}

function pushRows({ perCycle, steady, extraCorePercent, sentInWindow, outage, catchUp }) {
  const core = (result) => `${number(result.corePercent, 2)} %`;
  return [
    plain(
      'push: CPU per cycle',
      'Jetson replay → VictoriaMetrics',
      `${number(perCycle.pushMicros)} µs`,
      `${number(perCycle.pushMicros / perCycle.bareLoopCpuMicros, 0)}× a bare loop turn (${number(perCycle.bareLoopCpuMicros, 1)} µs), of which the self-metrics gathered every cycle ${number(perCycle.selfMetricsMicros)} µs; a cycle pushing ${number(perCycle.pushingMicros)} µs, scrape-only ${number(perCycle.scrapeOnlyMicros)} µs`,
    ),
    judged('push: extra CPU at interval: 1', 'Jetson replay → VictoriaMetrics', `${number(extraCorePercent, 3)} % of a core`, `pushing ${core(steady.pushing)} vs scrape-only ${core(steady.scrapeOnly)}; ${number(sentInWindow)} samples sent`, TARGETS.pushExtraCorePercent, extraCorePercent),
    plain('  RSS', '', `${mib(steady.pushing.rssBytes)} pushing`, `scrape-only ${mib(steady.scrapeOnly.rssBytes)}`),
    plain('  instead: scrape-only + vmagent', '', `+${core(steady.vmagent)} CPU, +${mib(steady.vmagent.rssBytes)} RSS`, 'vmagent scraping every 1 s, remote-writing to the same receiver'),
    plain('  instead: scrape-only + Prometheus agent', '', `+${core(steady.prometheusAgent)} CPU, +${mib(steady.prometheusAgent.rssBytes)} RSS`, 'prometheus --enable-feature=agent, likewise'),
    ...[['ours', 'exporter pushing'], ['vmagent', 'vmagent'], ['prometheusAgent', 'Prometheus agent']].map(([name, label], i) => {
      const result = outage[name];
      const shown = result.catchUpSeconds === undefined ? 'not within 5 min' : `${number(result.catchUpSeconds, 1)} s`;
      return plain(i === 0 ? `push: catch-up after ${number(outage.outageSeconds)} s down` : '', label, shown, `${result.outageSamples ?? 0} samples of the outage received (one a second is all)`);
    }),
    judged('push: catch-up drain', `${number(catchUp.backlogSeconds)} s offline`, `${number(catchUp.samplesPerSecond)} samples/s`, `${number(catchUp.backlogSamples)} samples in ${number(catchUp.drainSeconds, 1)} s (start-up included); peak RSS ${mib(catchUp.peakRssBytes)}`, TARGETS.drainSamplesPerSecond, catchUp.samplesPerSecond),
    plain('  disk per queued sample', '', `${number(catchUp.bytesPerSample, 1)} bytes`, `${mib(catchUp.diskBytes)} for the backlog`),
  ];
}

const ROWS = { startup: startupRows, steady: steadyRows, scrape: scrapeRows, 'hot-paths': hotPathRows, heap: heapRows, 'config-server': configServerRows, push: pushRows };

/** The table's header and its groups of rows, one group per section that ran. */
function reportRows(sections) {
  return { header: HEADER, groups: Object.entries(sections).map(([section, results]) => ROWS[section](results)) };
}

module.exports = { reportRows };
