// The device view in Debian's chromium against the config server's CLI and a real exporter: an invalid edit shows
// the field's problem at its line and stores nothing, a valid one reaches the exporter, as do a metric toggle and a
// rollback.
import { waitFor } from '../helpers';
import { api, openConsole, startConsoleServer, startExporter, useBrowser } from './console';

const browser = useBrowser();

async function deviceConsole(deviceId: string) {
  const { base } = await startConsoleServer();
  const exporter = await startExporter(base, deviceId);
  const opened = await openConsole(browser(), base);
  await opened.page.goto(`${base}/ui/#/devices/${deviceId}`);
  const editor = opened.page.getByLabel(`Own layer of ${deviceId}`, { exact: false });
  await waitFor(async () => (await editor.inputValue()).includes('metrics:'), 'the device layer in the editor');
  return { base, exporter, ...opened, editor };
}

test('an invalid edit shows each problem at the line of its key and saves nothing', async () => {
  const { base, page, editor } = await deviceConsole('edge-01');
  const before = await api(base, '/config/edge-01/layer/history');
  const original = await editor.inputValue();
  // The exporter registered its local `interval`: the operator changes that line and adds an unknown key.
  const lines = `${original.replace(/^interval: .*\n/m, '').trimEnd()}\ninterval: -1\ncolour: red\n`;
  await editor.fill(lines);
  const intervalLine = lines.split('\n').indexOf('interval: -1') + 1;
  const colourLine = intervalLine + 1;
  const note = (line: number) => page.locator(`.line-notes .line:nth-child(${line})`);
  await waitFor(async () => ((await note(intervalLine).textContent()) ?? '').includes('interval: must be > 0'), 'the interval problem at its line');
  expect(await note(colourLine).textContent()).toContain("unknown key 'colour'");
  expect(await page.locator(`.gutter .line:nth-child(${intervalLine})`).getAttribute('class')).toContain('bad');
  expect(await editor.getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#device-layer-problems li').allTextContents()).toEqual(
    expect.arrayContaining([`line ${intervalLine}: interval: must be > 0`, `line ${colourLine}: unknown key 'colour'`]),
  );

  await page.click('button:text("Save")');
  await waitFor(async () => ((await page.textContent('.yaml-editor ~ .status')) ?? '').includes('nothing saved'), 'the refusal');
  expect(await api(base, '/config/edge-01/layer/history')).toEqual(before);

  // YAML that does not parse names its line too.
  await editor.fill('metrics:\n  host_load1: true\n host_load5: [\n');
  await waitFor(async () => (await page.locator('.gutter .line.bad').count()) > 0, 'the YAML error at a line');
  expect(await page.locator('#device-layer-problems').textContent()).toContain('not valid YAML');
  expect(await api(base, '/config/edge-01/layer/history')).toEqual(before);
});

test('a valid edit reaches the exporter, and rolling the layer back takes it away again', async () => {
  const { base, page, editor, exporter } = await deviceConsole('edge-02');
  const original = await editor.inputValue();
  await editor.fill(`${original.trimEnd()}\nlabels:\n  site: north\n`);
  await waitFor(async () => ((await page.textContent('.changes')) ?? '').includes('+ labels.site: north'), 'the preview of the change');
  await page.click('button:text("Save")');
  await waitFor(async () => ((await page.textContent('.yaml-editor ~ .status')) ?? '').startsWith('Saved as version'), 'the save');
  await waitFor(async () => (await exporter.metrics()).includes('site="north"'), 'the exporter to label its series site="north"');
  // The version it was served, made by its own layer's change, shows as applied once the exporter reports it.
  const newest = page.locator('table.served tbody tr').first();
  await waitFor(async () => ((await newest.locator('td.apply').textContent()) ?? '') === 'applied', 'the applied report');
  expect(await newest.textContent()).toContain('+ labels.site: north');
  expect(await newest.textContent()).toMatch(/device:edge-02 v\d+/);

  const history = await api(base, '/config/edge-02/layer/history');
  const previous = history.versions[1].version;
  await waitFor(async () => (await page.locator(`.history li[data-version="${history.versions[0].version}"] .changes`).textContent())?.includes('+ labels.site: north') ?? false, 'the history diff');
  await page.click(`button:text("Roll back to version ${previous}")`);
  await waitFor(async () => !(await exporter.metrics()).includes('site="north"'), 'the exporter to drop the label');
  const after = await api(base, '/config/edge-02/layer/history');
  expect(after.versions[0].note).toBe(`rollback to version ${previous}`);
  await waitFor(async () => !(await editor.inputValue()).includes('site: north'), 'the editor to show the rolled-back layer');
});

test('a metric toggle writes the device layer and reaches the exporter', async () => {
  const { base, page, exporter } = await deviceConsole('edge-03');
  expect((await exporter.list()).metrics.host_load1).toBe(true);
  const toggle = page.getByLabel('host_load1', { exact: true });
  expect(await toggle.isChecked()).toBe(true);
  await toggle.uncheck();
  await waitFor(async () => (await exporter.list()).metrics.host_load1 === false, 'the exporter to disable host_load1');
  expect((await api(base, '/config/edge-03/layer')).config.metrics.host_load1).toBe(false);
  await waitFor(async () => ((await page.textContent('.metrics ~ .status')) ?? '').includes('host_load1 disabled'), 'the toggle to be confirmed');
});

test("a device's token opens a read-only console of that device alone, linked to its Grafana dashboard", async () => {
  const { base } = await startConsoleServer(['--grafana-url', 'https://grafana.example.org'], { CONFIG_SERVER_DEVICE_TOKENS: 'pi-01=pi-01-token' });
  for (const id of ['pi-01', 'pi-02']) await api(base, `/config/${id}`, { method: 'PUT', json: { device_type: 'raspberrypi', metrics: { power_total_watts: true } } });
  const { page, errors } = await openConsole(browser(), base, 'pi-01-token');
  await page.waitForURL(/#\/devices\/pi-01$/);
  const editor = page.getByLabel('Own layer of pi-01', { exact: false });
  await waitFor(async () => (await editor.inputValue()).includes('power_total_watts'), 'the device layer');
  expect(await editor.getAttribute('readonly')).not.toBeNull();
  expect(await page.getByLabel('power_total_watts', { exact: true }).isDisabled()).toBe(true);
  expect(await page.locator('button:text("Save")').count()).toBe(0);
  expect(await page.locator('nav a').allTextContents()).toEqual(['pi-01']);
  expect(await page.getAttribute('a:text("Grafana dashboard")', 'href')).toBe('https://grafana.example.org/d/edge-metrics-device?var-hostname=pi-01');
  // Another device, or the fleet, leads back to its own device.
  await page.goto(`${base}/ui/#/devices/pi-02`);
  await page.waitForURL(/#\/devices\/pi-01$/);
  await page.goto(`${base}/ui/#/`);
  await page.waitForURL(/#\/devices\/pi-01$/);
  expect(errors).toEqual([]);
});

test('a save based on a layer changed meanwhile is refused, and the other change is kept', async () => {
  const { base } = await startConsoleServer();
  await api(base, '/config/pi-03', { method: 'PUT', json: { device_type: 'raspberrypi', interval: 5, metrics: { power_total_watts: true } } });
  const { page } = await openConsole(browser(), base);
  await page.goto(`${base}/ui/#/devices/pi-03`);
  const editor = page.getByLabel('Own layer of pi-03', { exact: false });
  await waitFor(async () => (await editor.inputValue()).includes('interval: 5'), 'the device layer');
  await editor.fill((await editor.inputValue()).replace('interval: 5', 'interval: 10'));
  // While that edit is open, a metric is switched off (here, on this page; as well from another operator's curl).
  await page.getByLabel('power_total_watts', { exact: true }).uncheck();
  await waitFor(async () => (await api(base, '/config/pi-03/layer')).config.metrics.power_total_watts === false, 'the toggle to be stored');
  await waitFor(async () => ((await page.textContent('.metrics ~ .status')) ?? '').includes('disabled'), 'the toggle to be confirmed');
  await page.click('button:text("Save")');
  await waitFor(async () => ((await page.textContent('.yaml-editor ~ .status')) ?? '').includes('someone changed it meanwhile'), 'the refusal');
  expect((await api(base, '/config/pi-03/layer')).config).toEqual({ device_type: 'raspberrypi', interval: 5, metrics: { power_total_watts: false } });
  expect(await editor.inputValue()).toContain('interval: 10');
});
