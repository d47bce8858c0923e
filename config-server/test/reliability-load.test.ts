import { cleanUp, request, SAMPLE_CONFIG, startServer } from './helpers';

/**
 * Many devices long-polling while an operator and the devices themselves write their configs, all at once:
 * every acknowledged write has its own version, no version is lost, each poller sees versions only in increasing
 * order, and each answer's ETag belongs to the config it carries.
 */

afterAll(cleanUp);

const DEVICES = 20;
const WRITES_PER_WRITER = 10;
const POLLERS_PER_DEVICE = 2;

type Config = typeof SAMPLE_CONFIG & { labels: { writer: string; seq: string } };

describe('the config server under many long-polls and writes at once', () => {
  test(`${DEVICES} devices, ${POLLERS_PER_DEVICE} pollers and 2 writers each: no version lost, reordered or mislabelled`, async () => {
    const { base } = await startServer();
    const ids = Array.from({ length: DEVICES }, (_, i) => `edge-${String(i).padStart(2, '0')}`);
    const initial = (id: string): Config => ({ ...SAMPLE_CONFIG, labels: { writer: 'initial', seq: id } });
    for (const id of ids) expect((await request(base, `/config/${id}`, { method: 'PUT', json: initial(id) })).status).toBe(201);

    // Per device: version → the config acknowledged with it.
    const acknowledged = new Map(ids.map((id) => [id, new Map<number, Config>([[1, initial(id)]])]));
    const failures: string[] = [];
    const put = async (id: string, config: Config, source: 'admin' | 'device'): Promise<void> => {
      const reply = await request(base, `/config/${id}`, { method: 'PUT', json: config, headers: { 'X-Config-Source': source } });
      if (reply.status !== 200) {
        failures.push(`PUT ${id} (${config.labels.writer} ${config.labels.seq}): HTTP ${reply.status} ${reply.text}`);
        return;
      }
      const { version } = reply.json() as { version: number };
      if (acknowledged.get(id)!.has(version)) failures.push(`${id}: version ${version} acknowledged twice`);
      acknowledged.get(id)!.set(version, config);
    };
    const writer = async (id: string, source: 'admin' | 'device'): Promise<void> => {
      for (let seq = 1; seq <= WRITES_PER_WRITER; seq++) await put(id, { ...SAMPLE_CONFIG, labels: { writer: source, seq: String(seq) } }, source);
    };

    /** Follows a device's config by long-polling until it sees the operator's last write; returns what it saw, in order. */
    const poller = async (id: string): Promise<Array<{ version: number; config: Config }>> => {
      const observed: Array<{ version: number; config: Config }> = [];
      let etag: string | undefined;
      while (observed.at(-1)?.config.labels.writer !== 'last') {
        const reply = await request(base, `/config/${id}?wait=5`, { headers: etag ? { 'If-None-Match': etag } : {} });
        if (reply.status === 304) continue;
        if (reply.status !== 200) {
          failures.push(`GET ${id}: HTTP ${reply.status}`);
          return observed;
        }
        etag = reply.headers.etag!;
        observed.push({ version: Number(JSON.parse(etag)), config: reply.json() as Config });
      }
      return observed;
    };

    const polled = ids.map((id) => Promise.all(Array.from({ length: POLLERS_PER_DEVICE }, () => poller(id))));
    await Promise.all(ids.flatMap((id) => [writer(id, 'admin'), writer(id, 'device')]));
    await Promise.all(ids.map((id) => put(id, { ...SAMPLE_CONFIG, labels: { writer: 'last', seq: 'last' } }, 'admin')));
    const seen = await Promise.all(polled);
    expect(failures).toEqual([]);

    const expected = Array.from({ length: 2 + 2 * WRITES_PER_WRITER }, (_, i) => i + 1);
    for (const [index, id] of ids.entries()) {
      const versions = acknowledged.get(id)!;
      expect([id, [...versions.keys()].sort((a, b) => a - b)]).toEqual([id, expected]);
      const history = (await request(base, `/config/${id}/history?limit=1000`)).json() as { versions: Array<{ version: number; config: Config; source: string }> };
      expect(history.versions.map((entry) => entry.version)).toEqual([...expected].reverse());
      for (const entry of history.versions) {
        expect([id, entry.version, entry.config]).toEqual([id, entry.version, versions.get(entry.version)]);
        expect(entry.source).toBe(entry.config.labels.writer === 'device' ? 'device' : 'admin');
      }
      for (const observed of seen[index]!) {
        const order = observed.map(({ version }) => version);
        expect([id, order]).toEqual([id, [...new Set(order)].sort((a, b) => a - b)]);
        for (const { version, config } of observed) expect([id, version, config]).toEqual([id, version, versions.get(version)]);
        expect(order.at(-1)).toBe(expected.at(-1));
      }
    }
  });
});
