// What devices report and operators type stays text in the console, and its views pass an accessibility check.
import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { waitFor } from '../helpers';
import { api, openConsole, startConsoleServer, useBrowser } from './console';

const browser = useBrowser();
const HOSTILE = '<img src=x onerror=alert(1)>';

/** A device that reports `error` as its failure, with hostile tags and labels, and a fleet layer with a hostile label. */
async function hostileFleet(base: string): Promise<void> {
  await api(base, '/fleet', { method: 'PUT', json: { labels: { owner: HOSTILE } } });
  await api(base, '/config/evil-01', { method: 'PUT', json: { device_type: 'host', labels: { note: HOSTILE } } });
  await api(base, '/devices/evil-01/tags', { method: 'PUT', json: { tags: { ring: HOSTILE } } });
  const { version } = await api(base, '/devices/evil-01/status', { method: 'POST', json: { device_type: 'host', metrics_port: 9100 } });
  await api(base, '/devices/evil-01/status', { method: 'POST', json: { version, status: 'failed', error: HOSTILE } });
}

/** No element made from the strings (no `img` anywhere), no dialog, no script error. */
async function expectNothingRan(page: Page, dialogs: string[], errors: string[]): Promise<void> {
  expect(await page.locator('img').count()).toBe(0);
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
}

test('hostile strings in errors, tags, labels and YAML are shown as text, never run', async () => {
  const { base } = await startConsoleServer();
  await hostileFleet(base);
  const { page, dialogs, errors } = await openConsole(browser(), base);
  const row = page.locator('tr[data-device="evil-01"]');
  await waitFor(async () => ((await row.textContent()) ?? '').includes(`failed on v`), 'the failed device');
  expect(await row.locator('td.apply').textContent()).toContain(HOSTILE);
  expect(await row.locator('td.groups').textContent()).toContain(`ring=${HOSTILE}`);
  await expectNothingRan(page, dialogs, errors);

  await page.click('a:text("evil-01")');
  const editor = page.getByLabel('Own layer of evil-01', { exact: false });
  await waitFor(async () => (await editor.inputValue()).includes(HOSTILE), 'the hostile label in the YAML editor');
  expect(await page.locator('table.effective').textContent()).toContain(HOSTILE);
  expect(await page.locator('.summary').textContent()).toContain(HOSTILE);
  // A hostile key echoed back in the server's problem lands at its line as text.
  await editor.fill(`device_type: host\n"${HOSTILE}": 1\n`);
  await waitFor(async () => ((await page.locator('.line-notes .line:nth-child(2)').textContent()) ?? '').includes(`unknown key '${HOSTILE}'`), 'the hostile key problem');
  await expectNothingRan(page, dialogs, errors);

  await page.goto(`${base}/ui/#/layers/fleet`);
  const fleetEditor = page.getByLabel('Fleet layer', { exact: false });
  await waitFor(async () => (await fleetEditor.inputValue()).includes(HOSTILE), 'the fleet layer YAML');
  await fleetEditor.fill(`labels:\n  owner: "${HOSTILE}"\n  site: "${HOSTILE}"\n`);
  await waitFor(async () => ((await page.locator('.preview').textContent()) ?? '').includes(`+ labels.site: ${HOSTILE}`), 'the preview');
  await expectNothingRan(page, dialogs, errors);
});

/** Serious or critical axe violations of the page as it is: none expected. */
async function axeViolations(page: Page): Promise<string[]> {
  // The console's CSP refuses inline scripts, so axe is evaluated through the browser's debugging protocol
  // (page.evaluate) rather than added as a <script>.
  await page.evaluate(axe.source);
  const violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> = await page.evaluate('axe.run(document).then((result) => result.violations)');
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

test('the fleet, device and layers views have no serious accessibility violation', async () => {
  const { base } = await startConsoleServer();
  await hostileFleet(base);
  await api(base, '/groups/hosts', { method: 'PUT', json: { selector: { device_type: 'host' }, config: { interval: 2 } } });
  const { page } = await openConsole(browser(), base);
  await page.waitForSelector('tr[data-device="evil-01"]');
  expect(await axeViolations(page)).toEqual([]);
  await page.goto(`${base}/ui/#/devices/evil-01`);
  await page.waitForSelector('table.effective tbody tr');
  await page.waitForSelector('.history li');
  expect(await axeViolations(page)).toEqual([]);
  await page.goto(`${base}/ui/#/layers`);
  await page.waitForSelector('a:text("hosts")');
  expect(await axeViolations(page)).toEqual([]);
  await page.goto(`${base}/ui/#/layers/groups/hosts`);
  await waitFor(async () => (await page.getByLabel('Group hosts', { exact: false }).inputValue()).includes('selector'), 'the group editor');
  expect(await axeViolations(page)).toEqual([]);
});
