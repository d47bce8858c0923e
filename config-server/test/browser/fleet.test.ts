// The fleet console in Debian's chromium against the config server's CLI and real exporters: sign-in and sign-out,
// the fleet's counts and statuses, and the table following a device that goes offline or fails to apply.
import { freePort, waitFor as waitForValue } from '../../../e2e/helpers';
import { waitFor } from '../helpers';
import { REPLAY_WATTS, startPrometheus, startReplayExporter } from '../prometheus';
import { ADMIN_TOKEN, api, fleetRow, openConsole, startConsoleServer, startExporter, useBrowser } from './console';

const browser = useBrowser();

const text = async (locator: { textContent(): Promise<string | null> }): Promise<string> => (await locator.textContent()) ?? '';

test('sign-in with the admin token gives an HttpOnly session cookie, and sign-out ends it', async () => {
  const { base } = await startConsoleServer();
  const context = await browser().newContext();
  const page = await context.newPage();

  await page.goto(`${base}/ui/`);
  expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
  await page.fill('input[name="token"]', 'not-the-token');
  const refused = await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.click('button[type="submit"]')]);
  expect(refused[0].status()).toBe(401);
  expect(await page.textContent('body')).toContain('that token is not valid');

  await page.fill('input[name="token"]', ADMIN_TOKEN);
  await Promise.all([page.waitForURL(`${base}/ui/`), page.click('button[type="submit"]')]);
  await page.waitForSelector('h1:text("Fleet")');
  expect(await page.evaluate('document.cookie')).toBe('');
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: 'ecs_session', httpOnly: true, sameSite: 'Strict' });

  await Promise.all([page.waitForURL(`${base}/ui/sign-in`), page.click('button:text("Sign out")')]);
  await page.goto(`${base}/ui/`);
  expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
  // The old cookie no longer opens the API either.
  expect(await page.evaluate(`fetch('/devices').then((response) => response.status)`)).toBe(401);
});

test('the fleet view counts and lists real exporters, and follows one going offline and one failing to apply, without reloading', async () => {
  const { base } = await startConsoleServer();
  const [, leaving] = await Promise.all([startExporter(base, 'edge-01'), startExporter(base, 'edge-02')]);
  const { page, errors } = await openConsole(browser(), base);
  const counts = page.locator('.counts');
  await waitFor(async () => (await text(counts)).includes('2 online'), 'both exporters online');
  expect(await text(counts)).toContain('0 offline');
  expect(await text(counts)).toContain('0 failed');
  const edge01 = fleetRow(page, 'edge-01');
  const edge02 = fleetRow(page, 'edge-02');
  const summary = await api(base, '/devices/edge-01');
  for (const expected of ['host', 'online', 'applied', `v${summary.version}`, summary.target]) expect(await text(edge01)).toContain(expected);

  // The operator narrows the table to edge-02 and keeps typing in the search field while the table updates.
  await page.evaluate('window.stillTheSamePage = true');
  const search = page.getByLabel('Search');
  await search.fill('edge-02');
  expect(await edge01.isHidden()).toBe(true);
  await leaving.stop();
  await waitFor(async () => (await text(edge02)).includes('offline'), 'edge-02 to show offline');
  await waitFor(async () => (await text(counts)).includes('1 offline'), 'the offline count');
  expect(await text(counts)).toContain('1 online');
  expect(await search.inputValue()).toBe('edge-02');
  expect(await search.evaluate((input) => input === input.ownerDocument.activeElement)).toBe(true);
  expect(await edge01.isHidden()).toBe(true);

  // A config edge-01 cannot apply (no plugin serves that collector): the exporter reports the failure.
  await search.fill('');
  await api(base, '/config/edge-01/layer', { method: 'PUT', json: { device_type: 'host', collectors: [{ type: 'nosuch' }] } });
  await waitFor(async () => (await text(edge01)).includes('failed'), 'edge-01 to show its failure');
  expect(await text(edge01)).toContain("no installed plugin serves device type 'nosuch'");
  await waitFor(async () => (await text(counts)).includes('1 failed'), 'the failed count');
  await page.getByLabel('Status').selectOption('failed');
  expect(await edge01.isVisible()).toBe(true);
  expect(await edge02.isHidden()).toBe(true);
  expect(await page.evaluate('window.stillTheSamePage')).toBe(true);
  expect(errors).toEqual([]);
});

test('the table sorts by a column and filters by type and group', async () => {
  const { base } = await startConsoleServer();
  for (const [id, type] of [['pi-01', 'raspberrypi'], ['jetson-01', 'jetson_orin'], ['jetson-02', 'jetson_orin']]) {
    await api(base, `/config/${id}`, { method: 'PUT', json: { device_type: type } });
    await api(base, `/devices/${id}/status`, { method: 'POST', json: { device_type: type, metrics_port: 9100 } });
  }
  await api(base, '/groups/jetsons', { method: 'PUT', json: { selector: { device_type: 'jetson_orin' }, config: { interval: 2 } } });
  const { page } = await openConsole(browser(), base);
  const ids = () => page.locator('tbody tr:visible th a').allTextContents();
  await waitFor(async () => (await ids()).length === 3, 'three rows');
  expect(await ids()).toEqual(['jetson-01', 'jetson-02', 'pi-01']);
  // By keyboard: the column headers are buttons.
  await page.focus('th button:text("Device")');
  await page.keyboard.press('Enter');
  expect(await ids()).toEqual(['pi-01', 'jetson-02', 'jetson-01']);
  expect(await page.getAttribute('th:has(button:text("Device"))', 'aria-sort')).toBe('descending');
  await page.click('th button:text("Type")');
  expect(await ids()).toEqual(['jetson-01', 'jetson-02', 'pi-01']);

  await page.getByLabel('Type').selectOption('raspberrypi');
  expect(await ids()).toEqual(['pi-01']);
  await page.getByLabel('Type').selectOption('');
  await waitFor(async () => (await page.locator('#fleet-group option').allTextContents()).includes('jetsons'), 'the group filter to offer jetsons');
  await page.getByLabel('Group').selectOption('jetsons');
  expect(await ids()).toEqual(['jetson-01', 'jetson-02']);
  expect(await page.textContent('.shown')).toBe('Showing 2 of 3 devices');

  // A device's link, followed from the keyboard, opens its view.
  await page.focus('a:text("jetson-02")');
  await page.keyboard.press('Enter');
  await page.waitForSelector('h1:text("jetson-02")');
});

test('with --prometheus-url the table has power and energy columns, and says so when Prometheus does not answer', async () => {
  const unreachable = `http://127.0.0.1:${await freePort()}`;
  const { base } = await startConsoleServer(['--prometheus-url', unreachable]);
  await api(base, '/config/pi-01', { method: 'PUT', json: { device_type: 'raspberrypi' } });
  const { page, errors } = await openConsole(browser(), base);
  await page.waitForSelector('tr[data-device="pi-01"]');
  expect(await page.locator('thead th').allTextContents()).toEqual(expect.arrayContaining(['Power (W)', 'Energy 24 h (Wh)']));
  await waitFor(async () => ((await page.textContent('main .status')) ?? '').includes(`Power figures unavailable: Prometheus at ${unreachable} did not answer`), 'the power error');
  expect(await page.locator('tr[data-device="pi-01"] td.watts').textContent()).toBe('—');
  expect(await page.locator('.count').allTextContents()).toEqual(['0 online', '1 offline', '0 failed', '1 device']);
  expect(errors).toEqual([]);
});

test("with a real Prometheus scraping the fleet, the table shows each device's watts and 24 h energy as Prometheus holds them, the fleet's total, and no data for a device without series", async () => {
  const prometheusUrl = `http://127.0.0.1:${await freePort()}`;
  const { base } = await startConsoleServer(['--prometheus-url', prometheusUrl]);
  // Two replayed AGX Orins that Prometheus finds through /sd; pi-01 is registered but has no exporter, so no series.
  for (const [id, type] of [['edge-01', 'jetson_orin'], ['edge-02', 'jetson_orin'], ['pi-01', 'raspberrypi']]) {
    await api(base, `/config/${id}`, { method: 'PUT', json: { device_type: type } });
  }
  await Promise.all(['edge-01', 'edge-02'].map((id) => startReplayExporter(base, ADMIN_TOKEN, id)));
  const prometheus = await startPrometheus(prometheusUrl, base, ADMIN_TOKEN);
  try {
    const { page, errors } = await openConsole(browser(), base);
    // The figures the page itself fetched, once Prometheus has two samples of each exporter's energy counter.
    const power = await waitForValue(async () => {
      const reply = await page.waitForResponse((response) => new URL(response.url()).pathname === '/ui/power');
      const body = await reply.json();
      return ['edge-01', 'edge-02'].every((id) => body.devices[id]?.energy_24h_wh > 0) ? body : undefined;
    }, () => `the page to get both exporters' power and energy; Prometheus logged:\n${prometheus.log}`, 90_000);
    const cells = async (id: string) => [await text(fleetRow(page, id).locator('td.watts')), await text(fleetRow(page, id).locator('td.energy'))];
    const expected = (id: string) => [power.devices[id].watts.toFixed(1), power.devices[id].energy_24h_wh.toFixed(0)];
    await waitFor(async () => (await cells('edge-01')).join() === expected('edge-01').join(), "edge-01's figures in its row");
    expect(await cells('edge-02')).toEqual(expected('edge-02'));
    expect(await cells('pi-01')).toEqual(['—', '—']);
    expect(power.devices['pi-01']).toEqual({ watts: null, energy_24h_wh: null });

    // What the page shows is what Prometheus holds: each exporter's series, the replay's fixed sum of its rails.
    const query = new URL('/api/v1/query', prometheusUrl);
    query.searchParams.set('query', 'power_total_watts');
    const answer = (await (await fetch(query)).json()) as { data: { result: Array<{ metric: { device_id: string }; value: [number, string] }> } };
    const series = answer.data.result;
    expect(series.map(({ metric }) => metric.device_id).sort()).toEqual(['edge-01', 'edge-02']);
    for (const { metric, value } of series) {
      expect(Number(value[1])).toBeCloseTo(REPLAY_WATTS, 6);
      expect((await cells(metric.device_id))[0]).toBe(Number(value[1]).toFixed(1));
    }

    // The fleet's total: both Orins, pi-01 adding nothing.
    expect(power.total_watts).toBeCloseTo(2 * REPLAY_WATTS, 6);
    expect(await text(page.locator('.count.power'))).toBe(`${power.total_watts.toFixed(1)} W now, ${power.total_energy_24h_wh.toFixed(0)} Wh in 24 h`);
    expect(await text(page.locator('.count.power'))).toMatch(/^20\.3 W now, /);
    expect(errors).toEqual([]);
  } finally {
    await prometheus.stop();
  }
});

test('a row that moves when its device goes offline keeps the keyboard focus on its link', async () => {
  const { base } = await startConsoleServer();
  for (const id of ['a-01', 'b-01']) {
    await api(base, `/config/${id}`, { method: 'PUT', json: { device_type: 'host' } });
    await api(base, `/devices/${id}/status`, { method: 'POST', json: { metrics_port: 9100 } });
  }
  // b-01 keeps reporting; a-01 falls silent and goes offline, which sorts it after b-01 by status ("online" first).
  const heartbeat = setInterval(() => void api(base, '/devices/b-01/status', { method: 'POST', json: { metrics_port: 9100 } }), 500);
  try {
    const { page } = await openConsole(browser(), base);
    await page.waitForSelector('tr[data-device="b-01"]');
    await page.click('th button:text("Status")');
    await page.click('th button:text("Status")');
    const order = () => page.locator('tbody tr th a').allTextContents();
    await waitFor(async () => (await order()).join() === 'a-01,b-01', 'both online, by id');
    await page.focus('a:text("a-01")');
    await waitFor(async () => (await order()).join() === 'b-01,a-01', 'a-01 to go offline and move down');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('a-01');
  } finally {
    clearInterval(heartbeat);
  }
});
