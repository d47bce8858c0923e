import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigServerClient } from '../src/sync/client';
import { syncSettings } from '../src/sync/settings';
import { waitFor } from './helpers';

/** A stand-in for one config server replica: answers GET /config/{id} with its own name in the config. */
async function replica(name: string, status = 200): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(status, { 'Content-Type': 'application/json', ETag: '"1"' });
    res.end(JSON.stringify(status === 200 ? { served_by: name } : { error: 'the database cannot be reached' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits: () => hits };
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A URL on which nothing listens: a port that was free a moment ago. */
async function deadUrl(): Promise<string> {
  const { url, server } = await replica('gone');
  await new Promise((resolve) => server.close(resolve));
  return url;
}

const servedBy = async (client: ConfigServerClient): Promise<unknown> => {
  const fetched = await client.fetchConfig();
  return fetched.kind === 'config' ? fetched.config.served_by : fetched.kind;
};

describe('a config server URL list', () => {
  it('reads CONFIG_SERVER_URL as comma-separated replicas and names a bad entry', () => {
    const settings = syncSettings({ CONFIG_SERVER_URL: 'http://cfg-a:8080, http://cfg-b:8080/', DEVICE_ID: 'edge-01' }, undefined);
    expect(settings?.urls.map(String)).toEqual(['http://cfg-a:8080/', 'http://cfg-b:8080/']);
    expect(() => syncSettings({ CONFIG_SERVER_URL: 'http://cfg-a:8080,ftp://cfg-b', DEVICE_ID: 'edge-01' }, undefined)).toThrow(
      "CONFIG_SERVER_URL entry 2: 'ftp://cfg-b' is not an http:// or https:// URL",
    );
  });

  it('fails over to the next replica on a refused connection and on 503, and back to the first once it answers', async () => {
    const b = await replica('b');
    const unavailable = await replica('a-without-database', 503);
    servers.push(b.server, unavailable.server);
    const deadA = await deadUrl();
    const messages: string[] = [];
    const settings = syncSettings({ CONFIG_SERVER_URL: `${deadA},${b.url}`, DEVICE_ID: 'edge-01' }, undefined)!;
    // A failback time far longer than the steps before the check that A is still passed over, on a loaded machine too.
    const client = new ConfigServerClient(settings, { onFailover: (message) => messages.push(message), failbackMs: 3000 });
    expect(await servedBy(client)).toBe('b');
    expect(client.origin).toBe(b.url);
    expect(messages).toEqual([expect.stringMatching(new RegExp(`^config server cannot reach ${deadA}: ECONNREFUSED: using ${b.url}$`))]);

    // A replica that answers 503 (its database is down) is passed over too.
    const viaUnavailable = new ConfigServerClient(syncSettings({ CONFIG_SERVER_URL: `${unavailable.url},${b.url}`, DEVICE_ID: 'edge-01' }, undefined)!);
    expect(await servedBy(viaUnavailable)).toBe('b');

    // The first replica comes back on its port: once the failback time is over, the client returns to it.
    const a = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"1"' });
      res.end(JSON.stringify({ served_by: 'a' }));
    });
    servers.push(a);
    await new Promise<void>((resolve) => a.listen(Number(new URL(deadA).port), '127.0.0.1', resolve));
    expect(await servedBy(client)).toBe('b'); // still passed over
    await waitFor(async () => (await servedBy(client)) === 'a', 'the client back on the first replica');
    expect(client.origin).toBe(deadA);
  });

  it('fails over on a timeout, and reports the last error when every replica fails', async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const b = await replica('b');
    servers.push(b.server);
    const client = new ConfigServerClient(syncSettings({ CONFIG_SERVER_URL: `${silentUrl},${b.url}`, CONFIG_TIMEOUT: '0.3', DEVICE_ID: 'edge-01' }, undefined)!);
    expect(await servedBy(client)).toBe('b');

    const deadA = await deadUrl();
    const deadB = await deadUrl();
    const nowhere = new ConfigServerClient(syncSettings({ CONFIG_SERVER_URL: `${deadA},${deadB}`, DEVICE_ID: 'edge-01' }, undefined)!);
    await expect(nowhere.fetchConfig()).rejects.toThrow(`cannot reach ${deadB}: ECONNREFUSED`);
  });
});
