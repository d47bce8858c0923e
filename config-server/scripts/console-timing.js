'use strict';
/* global document, requestAnimationFrame -- in the functions that page.evaluate and page.waitForFunction run in the browser */
// `npm run console-timing -w @edge-metrics/config-server`: how long the console's fleet view takes with 1,000
// devices (20 of them failed) in Debian's chromium: from navigation to the full table, then each filter, search and
// sort as the operator makes it, until the browser has laid the page out. Figures are medians of RUNS runs.

const { launchChromium, signIn } = require('./console-browser');
const { demoDevices, seedFleet, startDemoServer } = require('./demo-fleet');

const TOKEN = 'timing-admin-token';
const DEVICES = 1000;
const RUNS = 5;

/** In the page: changes a control as the operator would, and measures until the next frame is laid out. */
const MEASURE = async ({ selector, value, click }) => {
  const start = performance.now();
  const control = document.querySelector(selector);
  if (click) control.click();
  else {
    control.value = value;
    control.dispatchEvent(new Event(control.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
  }
  document.body.getBoundingClientRect();
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return { ms: performance.now() - start, shown: document.querySelector('.shown').textContent };
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const server = await startDemoServer(TOKEN);
  const browser = await launchChromium();
  try {
    const devices = demoDevices(DEVICES);
    const failed = Object.fromEntries(devices.filter((_, index) => index % 50 === 0).map((device) => [device.id, 'example failure']));
    await seedFleet(server.base, TOKEN, devices, failed);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, server.base, TOKEN);
    const steps = {
      'navigation to 1,000 rows (incl. GET /devices)': [],
      'search "jetson-01"': [],
      'status filter: failed': [],
      'clear both': [],
      'sort by type': [],
    };
    for (let run = 0; run < RUNS; run++) {
      const start = Date.now();
      await page.goto(`${server.base}/ui/?run=${run}#/`);
      await page.waitForFunction((count) => document.querySelectorAll('tbody tr').length === count && document.body.getBoundingClientRect(), DEVICES, { polling: 'raf' });
      steps['navigation to 1,000 rows (incl. GET /devices)'].push(Date.now() - start);
      steps['search "jetson-01"'].push((await page.evaluate(MEASURE, { selector: '#fleet-search', value: 'jetson-01' })).ms);
      steps['status filter: failed'].push((await page.evaluate(MEASURE, { selector: '#fleet-status', value: 'failed' })).ms);
      await page.evaluate(MEASURE, { selector: '#fleet-search', value: '' });
      steps['clear both'].push((await page.evaluate(MEASURE, { selector: '#fleet-status', value: '' })).ms);
      steps['sort by type'].push((await page.evaluate(MEASURE, { selector: 'button[data-sort="type"]', click: true })).ms);
    }
    process.stdout.write(`fleet view, ${DEVICES} devices, chromium ${browser.version()}, median of ${RUNS} runs:\n`);
    for (const [step, values] of Object.entries(steps)) process.stdout.write(`  ${step.padEnd(48)} ${median(values).toFixed(0).padStart(5)} ms  (max ${Math.max(...values).toFixed(0)})\n`);
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`console-timing: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
