import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../../scripts/console-browser';
import { killCliProcesses, startCli } from '../cli-process';
import { Exporter, killExporters, LOCAL_CONFIG } from '../exporter-process';
import { cleanUp, request, tempDir } from '../helpers';

export const ADMIN_TOKEN = 'console-test-admin-token';
/** A device is offline 3 s after it was last seen: exporters long-poll every second, so a killed one is offline soon. */
export const OFFLINE_AFTER_S = 3;

/** The config server's CLI as a process, with an admin token, a database of its own and the short offline threshold. */
export async function startConsoleServer(args: string[] = [], env: Record<string, string> = {}): Promise<{ base: string }> {
  const dbPath = join(await tempDir(), 'config-server.db');
  return startCli(['--db', dbPath, '--offline-after', String(OFFLINE_AFTER_S), ...args], { CONFIG_SERVER_TOKEN: ADMIN_TOKEN, ...env });
}

/** A real exporter that follows the server as `deviceId`, long-polling every second. */
export async function startExporter(base: string, deviceId: string): Promise<Exporter> {
  const config = LOCAL_CONFIG.replace('metrics:\n', 'config_server:\n  sync_interval: 1\nmetrics:\n');
  const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: base, CONFIG_SERVER_TOKEN: ADMIN_TOKEN, DEVICE_ID: deviceId }, config);
  await waitForApi(base, `/devices/${deviceId}`, (device) => device.apply?.status === 'applied' && device.metrics_port !== null, `${deviceId} to register and apply`);
  return exporter;
}

/** An API call with the admin token; throws unless 2xx. */
export async function api(base: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<any> {
  const reply = await request(base, path, { ...init, token: ADMIN_TOKEN });
  if (reply.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${reply.status} ${reply.text}`);
  return reply.text ? reply.json() : null;
}

/** Polls an API route until `check` holds on its JSON (15 s at most). */
export async function waitForApi(base: string, path: string, check: (body: any) => boolean, what: string): Promise<any> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const reply = await request(base, path, { token: ADMIN_TOKEN });
    if (reply.status === 200 && check(reply.json())) return reply.json();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${reply.status} ${reply.text.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ConsolePage {
  page: Page;
  /** Messages of every dialog (alert, confirm, prompt) the page opened; each is dismissed. */
  dialogs: string[];
  /** Uncaught errors of the page's scripts. */
  errors: string[];
}

/** A page in a fresh browser context, signed in with `token`. */
export async function openConsole(browser: Browser, base: string, token = ADMIN_TOKEN): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const opened: ConsolePage = { page, dialogs: [], errors: [] };
  page.on('dialog', (dialog) => {
    opened.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => opened.errors.push(error.message));
  await signIn(page, base, token);
  return opened;
}

/** The row of a device in the fleet table. */
export function fleetRow(page: Page, deviceId: string) {
  return page.locator(`tr[data-device="${deviceId}"]`);
}

/**
 * One chromium per test file, closed after it, with the file's servers, exporters and temp folders cleaned up
 * after each test.
 */
export function useBrowser(): () => Browser {
  // A browser test takes many steps, each bounded by its own wait; on a loaded machine they add up past 30 s.
  jest.setTimeout(90_000);
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    for (const context of browser?.contexts() ?? []) await context.close();
    killExporters();
    killCliProcesses();
    await cleanUp();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}
