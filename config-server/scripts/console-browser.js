'use strict';
// Debian's chromium driven by playwright-core, for the console's browser tests, its screenshots and its timing:
// playwright-core downloads no browser, it is given the system's.

const { chromium } = require('playwright-core');

/** The browser: CHROMIUM_PATH or /usr/bin/chromium, headless; `--no-sandbox` because CI runs as root. */
function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

/** Signs in on the console's sign-in page with `token` and waits for the console to show. */
async function signIn(page, base, token) {
  await page.goto(`${base}/ui/sign-in`);
  await page.fill('input[name="token"]', token);
  await Promise.all([page.waitForURL(`${base}/ui/**`), page.click('button[type="submit"], input[type="submit"]')]);
}

module.exports = { launchChromium, signIn };
