import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Exporter, createLogger, serve, type Listening } from '@edge-metrics/core';
import { FixtureTree } from '@edge-metrics/core/testing';
import { stringify } from 'yaml';
import { MockShelly, gen2Routes } from './helpers';

/**
 * Shellies under the real exporter: one that accepts connections and never answers (and later answers again),
 * one whose `name` option holds quotes, a newline, braces and a backslash, with a password, and one labelled by
 * its collector's name.
 */

const PASSWORD = 'pw-3f9c1e7a5b';
const NAME = 'desk "A"\n{lab} \\ x="y"';
const REALM = 'shellyplusplugs-e86beaeaa000';

/** A Gen2 Shelly that can be muted: while muted it accepts connections and reads requests but never answers. */
async function mutableShelly(): Promise<{ server: Server; host: string; muted: boolean; openSockets: () => number; close(): Promise<void> }> {
  const routes = gen2Routes('gen3-pm-mini');
  const sockets = new Set<Socket>();
  const state = { muted: true };
  const server = createServer((request, response) => {
    if (state.muted) return;
    const body = routes[request.url ?? ''];
    if (body === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    server,
    host: `127.0.0.1:${port}`,
    openSockets: () => sockets.size,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

describe('Shellies under the exporter', () => {
  let tree: FixtureTree;
  let exporter: Exporter;
  let listening: Listening;
  let mute: Awaited<ReturnType<typeof mutableShelly>>;
  let desk: MockShelly;
  let wall: MockShelly;
  const logs: string[] = [];

  beforeAll(async () => {
    tree = await FixtureTree.create();
    mute = await mutableShelly();
    desk = await MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), auth: { scheme: 'digest', password: PASSWORD, realm: REALM } });
    wall = await MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s') });
    await tree.write('config.yaml', stringify({
      device_type: 'shelly',
      interval: 0.2,
      port: 0,
      reload_port: 0,
      listen_address: '127.0.0.1',
      new_metrics_default: true,
      plugin_dirs: [join(__dirname, '..', '..', '..', 'node_modules')],
      options: { host: mute.host, name: 'mute', timeout_ms: 100 },
      collectors: [
        { type: 'shelly', name: 'desk', options: { host: desk.host, name: NAME, password: PASSWORD, generation: 2 } },
        { type: 'shelly', name: 'wall-plug', options: { host: wall.host } },
      ],
    }));
    exporter = await Exporter.create({ configPath: tree.path('config.yaml'), cwd: tree.root, env: {}, logger: createLogger('debug', (line) => logs.push(line)) });
    await exporter.start();
    listening = await serve(exporter);
  });

  afterAll(async () => {
    await listening?.close();
    await exporter?.stop();
    await mute.close();
    await desk.close();
    await wall.close();
    await tree.dispose();
  });

  async function scrape(accept?: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${listening.port}/metrics`, accept ? { headers: { accept } } : {});
    expect(response.status).toBe(200);
    return response.text();
  }
  const value = (text: string, prefix: string) => text.split('\n').find((line) => line.startsWith(prefix))?.split(' ').at(-1);
  const labels = `device_type="shelly",hostname="${hostname()}"`;

  async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    for (const deadline = Date.now() + 10_000; !(await check()); ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  test('a Shelly that never answers is shelly_up 0 and its collector down, logged once, holds no sockets, and is up again once it answers', async () => {
    await waitFor(async () => value(await scrape(), `shelly_up{${labels},plug="mute"}`) === '0', 'the mute Shelly to be reported down');
    // Ten more polls of the mute Shelly, each given up after its timeout.
    const polls = logs.length;
    await new Promise((resolve) => setTimeout(resolve, 10 * 200));
    const text = await scrape();
    expect(value(text, `shelly_up{${labels},plug="mute"}`)).toBe('0');
    expect(value(text, `edge_collector_up{${labels},collector="shelly"}`)).toBe('0');
    expect(value(text, `edge_collector_up{${labels},collector="desk"}`)).toBe('1');
    expect(mute.openSockets()).toBeLessThanOrEqual(2);
    expect(logs.slice(polls).filter((line) => line.includes("Shelly 'mute'"))).toEqual([]);
    expect(logs.filter((line) => line.includes("Shelly 'mute'"))).toEqual([
      `error: collector shelly (edge-collector-shelly) failed: Shelly 'mute' at http://${mute.host} is down: did not answer within 100 ms`,
    ]);

    mute.muted = false;
    await waitFor(async () => value(await scrape(), `shelly_up{${labels},plug="mute"}`) === '1', 'the Shelly to be reported up again');
    expect(value(await scrape(), `edge_collector_up{${labels},collector="shelly"}`)).toBe('1');
    expect(logs).toContain('info: collector shelly recovered');
    expect(await scrape()).toMatch(new RegExp(`^shelly_power_watts\\{${labels},plug="mute",channel="0"\\} \\S+$`, 'm'));
  });

  test("a plug name with quotes, a newline, braces and a backslash comes out escaped; the password is nowhere", async () => {
    const escaped = 'desk \\"A\\"\\n{lab} \\\\ x=\\"y\\"';
    await waitFor(async () => (await scrape()).includes(`plug="${escaped}"`), 'the desk plug to be served');
    for (const text of [await scrape(), await scrape('application/openmetrics-text; version=1.0.0')]) {
      const desks = text.split('\n').filter((line) => line.includes('plug="desk'));
      expect(desks.length).toBeGreaterThan(3);
      for (const line of desks) expect(line).toMatch(new RegExp(`^[a-z_]+\\{${labels},plug="${escaped.replace(/[\\{}]/g, '\\$&')}"(,channel="0")?\\} \\S+$`));
      expect(text.split('\n').filter((line) => line.startsWith('{') || line.startsWith('lab'))).toEqual([]);
      expect(text).not.toContain(PASSWORD);
    }
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });

  test("a plug without a name option is labelled with its collector's name", async () => {
    await waitFor(async () => value(await scrape(), `shelly_up{${labels},plug="wall-plug"}`) === '1', 'the wall-plug Shelly to be served');
    expect(await scrape()).toMatch(new RegExp(`^shelly_power_watts\\{${labels},plug="wall-plug",channel="0"\\} \\S+$`, 'm'));
  });
});
