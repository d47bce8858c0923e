// The layers views in Debian's chromium against the config server's CLI: a group edit previewed per device and
// saved, and a fleet change released as a staged rollout, watched, halted by a failure and rolled back, or aborted.
import type { Locator, Page } from 'playwright-core';
import { demoDevices, seedFleet } from '../../scripts/demo-fleet';
import { waitFor } from '../helpers';
import { ADMIN_TOKEN, api, openConsole, startConsoleServer, useBrowser, waitForApi } from './console';

const browser = useBrowser();

/**
 * From the fleet layer's page, changes `fleet: solar-farm` to `wind-farm` and starts it as a staged rollout of two
 * steps (50 %, 100 %) an hour apart, halting above `haltAbovePercent` failed when given; resolves once the rollout's
 * page shows it running, with its state field.
 */
async function startWindFarmRollout(page: Page, base: string, haltAbovePercent?: string): Promise<Locator> {
  await page.goto(`${base}/ui/#/layers/fleet`);
  const editor = page.getByLabel('Fleet layer', { exact: false });
  await waitFor(async () => (await editor.inputValue()).includes('solar-farm'), 'the fleet layer in the editor');
  await editor.fill((await editor.inputValue()).replace('solar-farm', 'wind-farm'));
  await page.getByLabel('Steps (% of affected devices)').fill('50, 100');
  await page.getByLabel('Wait between steps (s)').fill('3600');
  if (haltAbovePercent !== undefined) await page.getByLabel('Halt above failed (%)').fill(haltAbovePercent);
  await page.click('button:text("Start staged rollout")');
  await page.waitForURL(/#\/rollouts\/1$/);
  const state = page.locator('dd[data-fact="state"]');
  await waitFor(async () => (await state.textContent()) === 'running', 'the rollout to show running');
  return state;
}

test('a group edit shows the devices it changes and their keys before it is saved', async () => {
  const { base } = await startConsoleServer();
  await seedFleet(base, ADMIN_TOKEN, demoDevices(6));
  const { page } = await openConsole(browser(), base);
  await page.click('nav a:text("Layers")');
  await page.click('a:text("jetsons")');
  const editor = page.getByLabel('Group jetsons', { exact: false });
  await waitFor(async () => (await editor.inputValue()).includes('interval: 2'), 'the group in the editor');
  await editor.fill((await editor.inputValue()).replace('interval: 2', 'interval: 3'));
  const preview = page.locator('.preview');
  await waitFor(async () => ((await preview.textContent()) ?? '').includes('2 device(s) change'), 'the preview');
  expect(await preview.locator('li[data-device]').evaluateAll((items) => items.map((item) => item.getAttribute('data-device')))).toEqual(['jetson-01', 'jetson-02']);
  expect(await preview.locator('li[data-device="jetson-01"]').textContent()).toContain('interval: 2 → 3');
  expect((await api(base, '/config/jetson-01')).interval).toBe(2);

  await page.click('button:text("Save now")');
  await waitFor(async () => ((await page.textContent('main .status')) ?? '').includes('Saved as version 2: 2 device(s)'), 'the save');
  expect((await api(base, '/config/jetson-01')).interval).toBe(3);
  expect((await api(base, '/config/pi-01')).interval).toBe(5);
});

test('a staged rollout started from the fleet layer is watched, halts on a failure, is resumed and rolled back', async () => {
  const { base } = await startConsoleServer();
  await seedFleet(base, ADMIN_TOKEN, demoDevices(6));
  const { page } = await openConsole(browser(), base);
  const state = await startWindFarmRollout(page, base, '0');
  expect(await page.locator('dd[data-fact="step"]').textContent()).toBe('1 of 2 (50 %, 100 %)');

  // A device of the first step fails on its new version: the rollout halts, and the page shows it on its own.
  const { version } = await waitForApi(base, '/devices/jetson-01', (device) => device.version > 1, 'jetson-01 to get the change');
  await api(base, '/devices/jetson-01/status', { method: 'POST', json: { version, status: 'failed', error: 'no wind here' } });
  await waitFor(async () => (await state.textContent()) === 'halted', 'the rollout to show halted');
  expect(await page.locator('tr.failed').textContent()).toContain('no wind here');
  expect(await page.locator('dd[data-fact="reason"]').textContent()).toContain('failed to apply');

  // Resumed, it reaches its last step at once; then rolled back, every device gets its old config again.
  await page.click('button[data-action="resume"]');
  await waitFor(async () => (await page.locator('dd[data-fact="step"]').textContent())?.startsWith('2 of 2') ?? false, 'the last step');
  expect((await api(base, '/config/pi-02')).labels.fleet).toBe('wind-farm');
  await page.click('button[data-action="rollback"]');
  await waitFor(async () => (await state.textContent()) === 'rolled_back', 'the rollback');
  expect((await api(base, '/fleet')).config.labels.fleet).toBe('solar-farm');
  expect((await api(base, '/config/jetson-01')).labels.fleet).toBe('solar-farm');
  expect((await api(base, '/config/pi-02')).labels.fleet).toBe('solar-farm');
  expect(await page.isDisabled('button[data-action="rollback"]')).toBe(true);
});

test('a running rollout aborted from the page stops where it stands: devices reached keep the change, the others their config', async () => {
  const { base } = await startConsoleServer();
  const devices = demoDevices(6);
  await seedFleet(base, ADMIN_TOKEN, devices);
  // Each device's config and version before the rollout, as the API answers them.
  const asItIs = async (id: string) => ({ config: await api(base, `/config/${id}`), version: (await api(base, `/devices/${id}`)).version });
  const before = new Map<string, Awaited<ReturnType<typeof asItIs>>>();
  for (const { id } of devices) before.set(id, await asItIs(id));
  const { page } = await openConsole(browser(), base);
  const state = await startWindFarmRollout(page, base);

  await page.click('button[data-action="abort"]');
  await waitFor(async () => (await state.textContent()) === 'aborted', 'the rollout to show aborted');
  expect(await page.textContent('main .status')).toBe('abort: done');
  expect(await page.locator('dd[data-fact="next step"]').textContent()).toBe('—');
  expect(await page.isDisabled('button[data-action="abort"]')).toBe(true);
  expect(await page.isDisabled('button[data-action="resume"]')).toBe(true);
  expect(await page.isEnabled('button[data-action="rollback"]')).toBe(true);

  const rollout = await api(base, '/rollouts/1');
  expect(rollout).toMatchObject({ state: 'aborted', step: 1, next_step_at: null });
  const reached = rollout.devices.filter((device: any) => device.step !== null);
  const waiting = rollout.devices.filter((device: any) => device.step === null);
  expect(reached.length).toBe(3);
  expect(waiting.length).toBe(3);
  for (const device of reached) {
    const now = await asItIs(device.device_id);
    expect(now.config.labels.fleet).toBe('wind-farm');
    expect(now.version).toBe(device.version);
    expect(now.version).toBeGreaterThan(before.get(device.device_id)!.version);
  }
  for (const device of waiting) expect(await asItIs(device.device_id)).toEqual(before.get(device.device_id));
  expect((await api(base, '/fleet')).config.labels.fleet).toBe('wind-farm');
});
