'use strict';
/* global document -- in the functions that page.evaluate and page.waitForFunction run in the browser */
// `npm run screenshots -w @edge-metrics/config-server`: the console's fleet and device views on a seeded fleet (a
// dozen devices, one failed, two offline, groups), written to docs/ for the README. Needs the build and chromium.

const { join } = require('node:path');
const { launchChromium, signIn } = require('./console-browser');
const { demoDevices, seedFleet, startDemoServer } = require('./demo-fleet');

const TOKEN = 'screenshot-admin-token';
const OFFLINE_AFTER_S = 6;
const DOCS = join(__dirname, '..', 'docs');

async function main() {
  const server = await startDemoServer(TOKEN, ['--offline-after', String(OFFLINE_AFTER_S)]);
  const browser = await launchChromium();
  try {
    const devices = demoDevices(12);
    // Two devices report once and then fall silent: they are offline when the others have just reported.
    const silent = devices.filter((device) => device.id === 'pi-04' || device.id === 'panda-03');
    await seedFleet(server.base, TOKEN, silent);
    await new Promise((resolve) => setTimeout(resolve, (OFFLINE_AFTER_S + 1) * 1000));
    await seedFleet(server.base, TOKEN, devices.filter((device) => !silent.includes(device)), {
      'jetson-02': "collectors[0].type: no installed plugin serves device type 'shelly'; install the edge-collector-* package that serves it",
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await signIn(page, server.base, TOKEN);
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 12 && document.querySelector('.count.offline')?.textContent === '2 offline');
    await page.screenshot({ path: join(DOCS, 'console-fleet.png'), fullPage: true });

    await page.goto(`${server.base}/ui/#/devices/jetson-02`);
    const editor = page.locator('#device-layer');
    await page.waitForFunction(() => document.querySelector('#device-layer')?.value.includes('metrics:'));
    // An operator's edit with a mistake: the problem shows at its line, before anything is saved.
    await editor.fill(`${(await editor.inputValue()).trimEnd()}\ninterval: 0\n`);
    await page.waitForSelector('.line-notes .problem');
    await page.screenshot({ path: join(DOCS, 'console-device.png'), fullPage: true });
    process.stdout.write(`wrote ${join(DOCS, 'console-fleet.png')} and ${join(DOCS, 'console-device.png')}\n`);
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`screenshots: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
