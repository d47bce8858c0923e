import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkConformance } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { byName, context, options, REPLAY_DEMO, waitFor } from './helpers';

jest.setTimeout(30_000);

const REPLAY = join(REPLAY_DEMO, 'fake-tegrastats');

describe('edge-collector-jetson', () => {
  it('passes the conformance kit, replaying the recorded trace of the demo', async () => {
    const { samples, logs } = await checkConformance(plugin, {
      options: { tegrastats_path: REPLAY, interval_ms: 50 },
      firstSampleTimeoutMs: 10_000,
    });
    expect(byName(samples)).toMatchObject({ power_total_watts: 10.135, jetson_power_vdd_gpu_soc_watts: 4.788 });
    expect(logs.filter((line) => line.startsWith('warn:'))).toEqual([]);
  });
});

describe('the replay demo (examples/jetson-replay)', () => {
  it('yields every metric its config.yaml enables, at the interval it is asked for', async () => {
    const config = await readFile(join(REPLAY_DEMO, 'config.yaml'), 'utf8');
    const enabled = [...config.matchAll(/^ {2}([a-z0-9_]+): true$/gm)].map(([, name]) => name);
    expect(config).toMatch(/^device_type: jetson_orin$/m);
    expect(config).toMatch(/^ {2}tegrastats_path: examples\/jetson-replay\/fake-tegrastats$/m);

    const collector = plugin.create(options({ tegrastats_path: REPLAY, interval_ms: 20 }) as unknown as Record<string, unknown>, context());
    try {
      await collector.start?.();
      const names = await waitFor(async () => {
        const samples = await collector.collect();
        return samples.length > 0 ? samples.map((sample) => sample.name) : undefined;
      });
      expect(names.sort()).toEqual(enabled.sort());
    } finally {
      await collector.stop?.();
    }
  });
});
