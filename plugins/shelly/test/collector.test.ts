import { CollectorDownError, createLogger, resolveOptions, type Collector, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import { create, manifest } from '../src';
import { MockShelly, fixture, gen1Routes, gen2Routes, refusedPort, silentServer } from './helpers';

const GEN2_REALM = 'shellyplusplugs-e86beaeaa000';

/** A collector, the lines it logged, and the messages of the collections that failed (the plug down). */
interface Run {
  collector: Collector;
  logs: string[];
  failures: string[];
}

function collectorFor(options: Record<string, unknown>, interval = 5, context: Partial<CollectorContext> = {}): Run {
  const logs: string[] = [];
  const collector = create(resolveOptions(manifest, options, 'options'), {
    deviceType: 'shelly',
    collectorName: String(options.name ?? options.host),
    interval,
    logger: createLogger('debug', (line) => logs.push(line), 'shelly'),
    ...context,
  });
  return { collector, logs, failures: [] };
}

/** The samples of one collection; a plug that is down fails it with a CollectorDownError, whose samples count. */
async function collect(run: Run): Promise<Sample[]> {
  try {
    return await run.collector.collect();
  } catch (error) {
    if (!(error instanceof CollectorDownError)) throw error;
    run.failures.push(error.message);
    return error.samples;
  }
}

/** The value of one series, by name and labels (the labels given must all match). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
  )?.value;
}

const mocks: Array<{ close(): Promise<void> }> = [];
async function started<T extends { close(): Promise<void> }>(mock: Promise<T>): Promise<T> {
  const ready = await mock;
  mocks.push(ready);
  return ready;
}
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((mock) => mock.close()));
});

describe('a Gen1 plug with HTTP basic auth', () => {
  it('detects Gen1 once, sends the password, and reports every reading of the plug', async () => {
    const mock = await started(MockShelly.start({ routes: gen1Routes(), auth: { scheme: 'basic', password: 'pw1' } }));
    const run = collectorFor({ host: mock.host, name: 'printer', password: 'pw1' });
    await collect(run);
    const samples = await collect(run);
    const labels = { plug: 'printer', channel: '0' };
    expect(valueOf(samples, 'shelly_up', { plug: 'printer' })).toBe(1);
    expect(valueOf(samples, 'shelly_power_watts', labels)).toBe(2.21);
    expect(valueOf(samples, 'shelly_energy_joules_total', labels)).toBe(439237 * 60);
    expect(valueOf(samples, 'shelly_relay_on', labels)).toBe(1);
    expect(valueOf(samples, 'shelly_temperature_celsius', labels)).toBe(34.48);
    expect(valueOf(samples, 'shelly_overtemperature', labels)).toBe(0);
    expect(mock.count('/shelly')).toBe(1);
    expect(mock.count('/status')).toBe(2);
    expect(run.logs).toEqual([]);
  });

  it('reports a wrong password as down, naming the plug and HTTP basic', async () => {
    const mock = await started(MockShelly.start({ routes: gen1Routes(), auth: { scheme: 'basic', password: 'pw1' } }));
    const run = collectorFor({ host: mock.host, name: 'printer', password: 'wrong' });
    for (let cycle = 0; cycle < 3; cycle += 1) {
      expect(await collect(run)).toEqual([{ name: 'shelly_up', value: 0, labels: { plug: 'printer' } }]);
    }
    expect(run.failures).toEqual(
      Array(3).fill(`Shelly 'printer' at http://${mock.host} is down: rejected the password (HTTP basic, user 'admin'): check options.password and options.username`),
    );
    expect(run.logs).toEqual([]);
  });
});

describe('a Gen2 plug with a password (HTTP digest, SHA-256)', () => {
  const auth = { scheme: 'digest', password: 'pw2', realm: GEN2_REALM } as const;

  it('answers the challenge and then reuses the nonce with a rising nonce count', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), auth }));
    const run = collectorFor({ host: mock.host, name: 'desk', password: 'pw2' });
    for (let cycle = 0; cycle < 3; cycle += 1) {
      const samples = await collect(run);
      expect(valueOf(samples, 'shelly_up')).toBe(1);
      expect(valueOf(samples, 'shelly_voltage_volts', { channel: '0' })).toBe(235.6);
      expect(valueOf(samples, 'shelly_relay_on', { channel: '0' })).toBe(1);
      expect(valueOf(samples, 'shelly_temperature_celsius', { channel: '0' })).toBe(43.4);
    }
    // One challenge in all: 401, then three signed requests with nc 1, 2, 3 that the mock verified.
    expect(mock.challenges).toBe(1);
    expect(mock.count('/rpc/Shelly.GetStatus')).toBe(4);
    expect(run.logs).toEqual([]);
  });

  it('fetches a new challenge when the device forgot the nonce (e.g. after a reboot)', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), auth }));
    const run = collectorFor({ host: mock.host, password: 'pw2' });
    expect(valueOf(await collect(run), 'shelly_up')).toBe(1);
    mock.forgetNonces();
    expect(valueOf(await collect(run), 'shelly_up')).toBe(1);
    expect(mock.challenges).toBe(2);
    expect(run.logs).toEqual([]);
  });

  it('reports a wrong password as down, naming the plug and the digest scheme', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), auth }));
    const run = collectorFor({ host: mock.host, name: 'desk', password: 'wrong' });
    for (let cycle = 0; cycle < 3; cycle += 1) expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    expect(run.failures).toEqual(
      Array(3).fill(`Shelly 'desk' at http://${mock.host} is down: rejected the password (HTTP digest, SHA-256, user 'admin'): check options.password`),
    );
  });

  it('says that a password is needed when none is configured', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), auth }));
    const run = collectorFor({ host: mock.host, name: 'desk' });
    expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    expect(run.failures).toEqual([`Shelly 'desk' at http://${mock.host} is down: requires a password (HTTP digest, SHA-256, user 'admin'): set options.password`]);
  });
});

describe('Gen3 meters', () => {
  it('reports a three-phase meter per phase and summed, and the device totals with total: true', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen3-3em-63') }));
    const samples = await collect(collectorFor({ host: mock.host, name: 'rack', total: true }));
    expect(valueOf(samples, 'shelly_power_watts', { channel: '0', phase: 'b' })).toBe(2.1);
    expect(valueOf(samples, 'shelly_voltage_volts', { channel: '0', phase: 'c' })).toBe(236.2);
    const channelSum = samples.find((sample) => sample.name === 'shelly_power_watts' && sample.labels?.phase === undefined);
    expect(channelSum?.value).toBe(5.942);
    expect(valueOf(samples, 'power_total_watts', { plug: 'rack' })).toBe(5.942);
    expect(valueOf(samples, 'energy_joules_total', { plug: 'rack' })).toBeCloseTo(20527.33 * 3600, 3);
  });

  it('reads the channels of a list, and warns once about a channel the device does not have', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen3-em') }));
    const run = collectorFor({ host: mock.host, name: 'board', channel: [0, 1, 5], total: true });
    await collect(run);
    const samples = await collect(run);
    expect(valueOf(samples, 'shelly_power_watts', { channel: '0' })).toBe(4.8);
    expect(valueOf(samples, 'shelly_power_watts', { channel: '1' })).toBe(0);
    expect(valueOf(samples, 'power_total_watts')).toBe(4.8);
    expect(valueOf(samples, 'energy_joules_total')).toBeCloseTo((3087 + 1516.75) * 3600, 3);
    expect(run.logs).toHaveLength(1);
    expect(run.logs[0]).toMatch(/^warn: \[shelly\] Shelly 'board' .* has no channel 5 .*: check options.channel$/);
  });
});

describe('the energy counter', () => {
  it('never goes backwards when the device counter resets', async () => {
    const mock = await started(MockShelly.start({ routes: gen1Routes('gen1-plug') }));
    const run = collectorFor({ host: mock.host, name: 'printer', total: true });
    const before = await collect(run);
    expect(valueOf(before, 'shelly_energy_joules_total')).toBe(439237 * 60);
    // The device restarts counting: its total (watt-minutes) is now below the last one.
    mock.routes.set('/status', fixture('gen1-plug-s', 'status.json'));
    const after = await collect(run);
    expect(valueOf(after, 'shelly_energy_joules_total')).toBe((439237 + 216418) * 60);
    expect(valueOf(after, 'energy_joules_total')).toBe((439237 + 216418) * 60);
  });
});

describe('the plug label', () => {
  it("is options.name, else the collector's name from the config, else the host", async () => {
    const mock = await started(MockShelly.start({ routes: gen1Routes() }));
    const plugOf = async (options: Record<string, unknown>, context: Partial<CollectorContext>) =>
      (await collect(collectorFor({ host: mock.host, ...options }, 5, context))).find((sample) => sample.name === 'shelly_up')?.labels?.plug;
    expect(await plugOf({ name: 'printer' }, { collectorName: 'wall-plug', configuredName: 'wall-plug' })).toBe('printer');
    expect(await plugOf({}, { collectorName: 'wall-plug', configuredName: 'wall-plug' })).toBe('wall-plug');
    expect(await plugOf({}, { collectorName: 'shelly' })).toBe(mock.host);
  });
});

describe('plugs that are down', () => {
  /** Generous: the timeout is 300 ms, the slow plug answers after 5 s. */
  const LIMIT_MS = 4000;

  it('a slow plug costs its timeout, not its delay', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), delayMs: 5000 }));
    const run = collectorFor({ host: mock.host, name: 'slow', timeout_ms: 300 });
    const startedAt = Date.now();
    expect(await collect(run)).toEqual([{ name: 'shelly_up', value: 0, labels: { plug: 'slow' } }]);
    expect(Date.now() - startedAt).toBeLessThan(LIMIT_MS);
    expect(run.failures).toEqual([`Shelly 'slow' at http://${mock.host} is down: did not answer within 300 ms`]);
  });

  it('a plug that accepts the connection and never answers costs its timeout', async () => {
    const silent = await started(silentServer());
    const run = collectorFor({ host: silent.host, name: 'mute', timeout_ms: 300 });
    const startedAt = Date.now();
    expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    expect(Date.now() - startedAt).toBeLessThan(LIMIT_MS);
    expect(run.failures).toEqual([expect.stringMatching(/did not answer within 300 ms$/)]);
  });

  it('a plug that refuses the connection is down with the reason', async () => {
    const run = collectorFor({ host: `127.0.0.1:${await refusedPort()}`, name: 'unplugged' });
    expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    expect(run.failures).toEqual([expect.stringMatching(/^Shelly 'unplugged' at http:\/\/127\.0\.0\.1:\d+ is down: .*ECONNREFUSED/)]);
  });

  it('malformed JSON is down; the plug is detected again and reported up once it answers properly', async () => {
    const status = fixture('gen2-plus-plug-s', 'status.json');
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s') }));
    mock.routes.set('/rpc/Shelly.GetStatus', status.slice(0, status.length / 2));
    const run = collectorFor({ host: mock.host, name: 'flaky' });
    expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    mock.routes.set('/rpc/Shelly.GetStatus', status);
    expect(valueOf(await collect(run), 'shelly_up')).toBe(1);
    expect(mock.count('/shelly')).toBe(3);
    expect(run.failures).toEqual(
      Array(2).fill(`Shelly 'flaky' at http://${mock.host} is down: answered GET /rpc/Shelly.GetStatus with something that is not JSON: ${JSON.stringify(status.slice(0, 60))}`),
    );
  });

  it('a device that is no Shelly is down with a hint', async () => {
    const mock = await started(MockShelly.start({ routes: { '/shelly': '{"name": "router"}' } }));
    const run = collectorFor({ host: mock.host, name: 'other' });
    expect(valueOf(await collect(run), 'shelly_up')).toBe(0);
    expect(run.failures).toEqual([expect.stringMatching(/answered GET \/shelly without a Shelly generation .*: is this a Shelly\?$/)]);
  });
});

describe('one exporter, many plugs', () => {
  it('serves a Gen1 plug, a Gen2 plug with a password and a Gen3 meter while a dead plug times out beside them', async () => {
    const gen1 = await started(MockShelly.start({ routes: gen1Routes(), auth: { scheme: 'basic', password: 'pw1' } }));
    const gen2 = await started(
      MockShelly.start({ routes: gen2Routes('gen2-plus-plug-s'), auth: { scheme: 'digest', password: 'pw2', realm: GEN2_REALM } }),
    );
    const gen3 = await started(MockShelly.start({ routes: gen2Routes('gen3-3em-63') }));
    const silent = await started(silentServer());
    const runs = [
      collectorFor({ host: gen1.host, name: 'printer', password: 'pw1' }),
      collectorFor({ host: `http://${gen2.host}`, name: 'desk', password: 'pw2', generation: 2 }),
      collectorFor({ host: gen3.host, name: 'rack', total: true }),
      collectorFor({ host: silent.host, name: 'dead', timeout_ms: 300 }),
    ];
    const [printer, desk, rack, dead] = await Promise.all(runs.map(collect));
    expect(valueOf(printer!, 'shelly_power_watts', { plug: 'printer' })).toBe(2.21);
    expect(valueOf(desk!, 'shelly_voltage_volts', { plug: 'desk' })).toBe(235.6);
    expect(valueOf(rack!, 'power_total_watts', { plug: 'rack' })).toBe(5.942);
    expect(dead).toEqual([{ name: 'shelly_up', value: 0, labels: { plug: 'dead' } }]);
    expect([printer, desk, rack].map((samples) => valueOf(samples!, 'shelly_up'))).toEqual([1, 1, 1]);
    // generation: 2 skips detection.
    expect(gen2.count('/shelly')).toBe(0);
  });
});

describe('options', () => {
  it('names the plug after the host by default', async () => {
    const mock = await started(MockShelly.start({ routes: gen2Routes('gen3-pm-mini') }));
    const samples = await collect(collectorFor({ host: mock.host }));
    expect(valueOf(samples, 'shelly_power_watts', { plug: mock.host })).toBe(4.4);
  });

  it('rejects a host that is no host', () => {
    expect(() => collectorFor({ host: 'ftp://files.example' })).toThrow(
      "options.host 'ftp://files.example' is not an IP address, host name, host:port or http(s) URL",
    );
    expect(() => collectorFor({ host: 'http://admin:secret@10.0.0.5' })).toThrow(
      "options.host '10.0.0.5' carries credentials: give them as options.username and options.password",
    );
  });
});
