'use strict';
// Scrape cost: requests/s and latency of GET /metrics under concurrent load, for our exporter on each subject,
// for a bare node:http server answering with the very bytes the exporter served (the limit for Node itself),
// and for Debian's node_exporter (which gathers on every scrape), measured at the start and at the end. Ours and
// the bare server are loaded twice: plain, and with `Accept-Encoding: gzip` as Prometheus asks (the bare server then
// sends the very gzip bytes our exporter sent).

const { countSeries, waitForExposition } = require('../lib/exposition');
const { load } = require('../lib/load');
const { request } = require('../lib/http');
const { ensureNodeExporter, startBareServer, startNodeExporter } = require('../lib/peers');
const { memory } = require('../lib/proc-stats');
const { startExporter, writeConfig } = require('../lib/subjects');
const { median } = require('../lib/stats');

const SUBJECTS = ['jetson', 'host', 'synthetic100', 'synthetic1000', 'synthetic10000'];

const GZIP = { 'accept-encoding': 'gzip' };

/** A warm-up run first (connections opened, code compiled), then the measured run. */
async function measure(url, options, headers = {}) {
  await load(url, { connections: options.connections, seconds: options.warmupSeconds, headers });
  return load(url, { connections: options.connections, seconds: options.loadSeconds, headers });
}

function describeLoad(name, result, series) {
  return `${name}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${series} series)`;
}

async function nodeExporterRun(options, log, when) {
  const nodeExporter = await startNodeExporter();
  try {
    const { response } = await waitForExposition(nodeExporter.metricsUrl);
    const series = countSeries(response.body);
    const result = await measure(nodeExporter.metricsUrl, options);
    log(describeLoad(`scrape node_exporter (${when})`, result, series));
    return { ...result, series, bytes: Buffer.byteLength(response.body) };
  } finally {
    await nodeExporter.stop();
  }
}

async function subjectRun(name, subject, { workDir, options, log }) {
  const exporter = await startExporter(await writeConfig(subject, `scrape-${name}`, workDir), { cwd: subject.cwd, name, nodeArgs: options.nodeArgs });
  let ours;
  let oursGzip;
  let served;
  let servedGzip;
  try {
    ({ response: served } = await waitForExposition(exporter.metricsUrl, { marker: subject.ready }));
    servedGzip = await request(exporter.metricsUrl, { headers: GZIP, raw: true });
    if (servedGzip.headers['content-encoding'] !== 'gzip') throw new Error(`${exporter.metricsUrl} did not answer Accept-Encoding: gzip with gzip`);
    const before = memory(exporter.pid);
    const result = await measure(exporter.metricsUrl, options);
    const after = memory(exporter.pid);
    ours = { ...result, rssBeforeBytes: before.rssBytes, rssAfterBytes: after.rssBytes, peakRssBytes: after.peakRssBytes };
    oursGzip = await measure(exporter.metricsUrl, options, GZIP);
  } finally {
    await exporter.stop();
  }
  const { body } = served;
  const series = countSeries(body);
  log(describeLoad(`scrape ${subject.label}`, ours, series));
  log(describeLoad(`scrape ${subject.label}, gzip`, oursGzip, series));
  const bareServer = await startBareServer(body, served.headers['content-type'], servedGzip.body, workDir, name);
  let bare;
  let bareGzip;
  try {
    bare = await measure(bareServer.metricsUrl, options);
    bareGzip = await measure(bareServer.metricsUrl, options, GZIP);
  } finally {
    await bareServer.stop();
  }
  log(describeLoad(`scrape bare node:http, same bytes`, bare, series));
  log(describeLoad(`scrape bare node:http, same gzip bytes`, bareGzip, series));
  return { label: subject.label, series, bytes: Buffer.byteLength(body), gzipBytes: servedGzip.body.length, ours, oursGzip, bare, bareGzip };
}

async function scrape(context) {
  const { subjects, options, log } = context;
  const nodeExporterVersion = ensureNodeExporter(log);
  log(`scrape: ${options.connections} connections, ${options.warmupSeconds} s warm-up + ${options.loadSeconds} s per server`);
  const first = await nodeExporterRun(options, log, 'first');
  const results = {};
  for (const name of SUBJECTS) results[name] = await subjectRun(name, subjects[name], context);
  const last = await nodeExporterRun(options, log, 'last');
  const nodeExporter = {
    version: nodeExporterVersion,
    runs: [first, last],
    requestsPerSecond: median([first.requestsPerSecond, last.requestsPerSecond]),
    series: median([first.series, last.series]),
    p50Ms: median([first.p50Ms, last.p50Ms]),
    p99Ms: median([first.p99Ms, last.p99Ms]),
  };
  for (const result of Object.values(results)) {
    result.perScrapeVsNodeExporter = result.ours.requestsPerSecond / nodeExporter.requestsPerSecond;
    result.perSeriesVsNodeExporter = (result.ours.requestsPerSecond * result.series) / (nodeExporter.requestsPerSecond * nodeExporter.series);
    result.vsBare = result.ours.requestsPerSecond / result.bare.requestsPerSecond;
    result.gzipVsBare = result.oursGzip.requestsPerSecond / result.bareGzip.requestsPerSecond;
  }
  return { nodeExporter, subjects: results };
}

module.exports = { scrape };
