'use strict';
// The peers measured in the same run: Debian's prometheus-node-exporter and a bare node:http server.

const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { writeFile } = require('node:fs/promises');
const { join } = require('node:path');
const { freePort } = require('./http');
const { startProcess } = require('./processes');

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

/** The installed node_exporter's version line; installs Debian's package first when it is missing. */
function ensureNodeExporter(log) {
  if (!existsSync(NODE_EXPORTER)) {
    log(`${NODE_EXPORTER} is missing: installing Debian's prometheus-node-exporter with apt-get`);
    const run = (args) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    try {
      run(['update']);
      run(['install', '-y', '--no-install-recommends', 'prometheus-node-exporter']);
    } catch (error) {
      throw new Error(`could not install prometheus-node-exporter (${error.message.split('\n')[0]}); install it by hand (apt-get install prometheus-node-exporter, as root) or run without the scrape section`);
    }
  }
  return execFileSync(NODE_EXPORTER, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0];
}

/** node_exporter with its default collectors, by hand (not as a service) on a free loopback port. */
async function startNodeExporter() {
  const port = await freePort();
  const started = await startProcess(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], {
    name: 'prometheus-node-exporter',
    ready: /Listening on.*address=127\.0\.0\.1:\d+/,
  });
  return { ...started, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

/**
 * A bare node:http server answering with `body` and `contentType` (and with `gzipBody` to a request that takes
 * gzip), in its own process like the exporter.
 */
async function startBareServer(body, contentType, gzipBody, workDir, name) {
  const bodyFile = join(workDir, `${name}.body`);
  const gzipFile = join(workDir, `${name}.body.gz`);
  await writeFile(bodyFile, body);
  await writeFile(gzipFile, gzipBody);
  const started = await startProcess(process.execPath, [join(__dirname, 'bare-server.js'), bodyFile, contentType, gzipFile], {
    name: `bare node:http server (${name})`,
    ready: /listening on (127\.0\.0\.1:\d+)/,
  });
  return { ...started, metricsUrl: `http://${started.match[1]}/metrics` };
}

module.exports = { ensureNodeExporter, startNodeExporter, startBareServer };
