import { uncompress } from 'snappyjs';
import type { ExpositionFamily } from '../src/metrics/exposition';
import { compressBlock, CycleEncoder, decodeRequestBody, requestBody, type DecodedSeries } from '../src/push/encode';

const identity = [['instance', 'orin-01'], ['job', 'edge-power']] as const;

type Labels = Array<readonly [string, string]>;

/** A gauge family of samples given as [labels, value]. */
function family(name: string, samples: Array<[Labels, number]>): ExpositionFamily {
  return { name, help: '', type: 'gauge', samples: samples.map(([labels, value]) => ({ name, labels, value })) };
}

/** What a receiver decodes from one cycle's bytes. */
function decoded(writeRequest: Buffer): DecodedSeries[] {
  return decodeRequestBody(compressBlock(writeRequest));
}

/** The series a receiver should get: `labels` plus the identity and `__name__`, one sample each. */
function expected(timestamp: number, series: Array<[string, Record<string, string>, number]>): DecodedSeries[] {
  return series.map(([name, labels, value]) => ({ labels: { __name__: name, instance: 'orin-01', job: 'edge-power', ...labels }, samples: [{ value, timestamp }] }));
}

const host = [['device_type', 'jetson_orin'], ['hostname', 'orin-01']] as const;
const rail = (name: string): Labels => [...host, ['rail', name]];

test('a cycle encoded from kept series decodes to the same WriteRequest as one encoded afresh, across label changes, new and vanished series', () => {
  const kept = new CycleEncoder(identity);
  // Cycle by cycle: [families, what the receiver must decode].
  const t = 1_790_000_000_000;
  const cycles: Array<[ExpositionFamily[], DecodedSeries[]]> = [
    [
      [family('power_watts', [[rail('cpu'), 4.5], [rail('gpu'), 0]]), family('temp_celsius', [[[...host], 41]])],
      expected(t, [['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'cpu' }, 4.5], ['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'gpu' }, 0], ['temp_celsius', { device_type: 'jetson_orin', hostname: 'orin-01' }, 41]]),
    ],
    // The gpu series' label value changes (same place in its family); a new series at the end of a family.
    [
      [family('power_watts', [[rail('cpu'), 5], [rail('gpu0'), 1.25], [rail('soc'), -2]]), family('temp_celsius', [[[...host], 42]])],
      expected(t + 1000, [['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'cpu' }, 5], ['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'gpu0' }, 1.25], ['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'soc' }, -2], ['temp_celsius', { device_type: 'jetson_orin', hostname: 'orin-01' }, 42]]),
    ],
    // The cpu series vanishes (every later one moves up a place), the temperature family vanishes, a new family.
    [
      [family('power_watts', [[rail('gpu0'), 1.5], [rail('soc'), -3]]), family('up', [[[['instance', 'rack-3']], 1]])],
      [
        ...expected(t + 2000, [['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'gpu0' }, 1.5], ['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'soc' }, -3]]),
        // A label the sample carries itself wins over the identity's.
        { labels: { __name__: 'up', instance: 'rack-3', job: 'edge-power' }, samples: [{ value: 1, timestamp: t + 2000 }] },
      ],
    ],
    // Everything back as in the first cycle; a label added to a series; a timestamp whose varint is a byte shorter.
    [
      [family('power_watts', [[rail('cpu'), 6], [[...rail('gpu'), ['bus', '1']], 2]]), family('temp_celsius', [[[...host], 43]])],
      expected(2 ** 34, [['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'cpu' }, 6], ['power_watts', { bus: '1', device_type: 'jetson_orin', hostname: 'orin-01', rail: 'gpu' }, 2], ['temp_celsius', { device_type: 'jetson_orin', hostname: 'orin-01' }, 43]]),
    ],
    // Nothing at all, then the same again.
    [[], []],
    [
      [family('power_watts', [[rail('cpu'), Number.MAX_VALUE], [[...rail('gpu'), ['bus', '1']], -0.5]]), family('temp_celsius', [[[...host], 44]])],
      expected(t + 5000, [['power_watts', { device_type: 'jetson_orin', hostname: 'orin-01', rail: 'cpu' }, Number.MAX_VALUE], ['power_watts', { bus: '1', device_type: 'jetson_orin', hostname: 'orin-01', rail: 'gpu' }, -0.5], ['temp_celsius', { device_type: 'jetson_orin', hostname: 'orin-01' }, 44]]),
    ],
  ];
  for (const [index, [families, want]] of cycles.entries()) {
    const timestamp = want[0]?.samples[0]?.timestamp ?? t;
    const cycle = kept.encode(families, timestamp);
    const afresh = new CycleEncoder(identity).encode(families, timestamp);
    expect({ index, series: decoded(cycle.writeRequest) }).toEqual({ index, series: want });
    expect(cycle.samples).toBe(want.length);
    expect(cycle.writeRequest.equals(afresh.writeRequest)).toBe(true);
  }
});

test('the labels of every series are sorted by name, as receivers require', () => {
  const [series] = decoded(new CycleEncoder(identity).encode([family('a_b', [[[['zone', 'z'], ['alpha', 'a'], ['job', 'own']], 1]])], 1).writeRequest);
  expect(Object.keys(series!.labels)).toEqual(['__name__', 'alpha', 'instance', 'job', 'zone']);
  expect(series!.labels.job).toBe('own');
});

test("a request body joins the cycles' snappy blocks into one block of all their series, in order, without compressing again", () => {
  const encoder = new CycleEncoder(identity);
  // Over 64 KiB uncompressed, so that the compressor works in several fragments; repetitive, so that it copies.
  const big = family('channel_watts', Array.from({ length: 800 }, (_, n): [Labels, number] => [[...host, ['channel', `c${n}`]], n]));
  const cycles = [encoder.encode([big], 1000), encoder.encode([family('power_watts', [[rail('cpu'), 1]])], 2000), encoder.encode([], 3000), encoder.encode([big], 4000)];
  const blocks = cycles.map((cycle) => compressBlock(cycle.writeRequest));
  expect(cycles[0]!.writeRequest.length).toBeGreaterThan(65_536);

  const body = requestBody(blocks);
  expect(Buffer.from(uncompress(body)).equals(Buffer.concat(cycles.map((cycle) => cycle.writeRequest)))).toBe(true);
  const series = decodeRequestBody(body);
  expect(series).toHaveLength(800 + 1 + 800);
  expect(series.map((one) => [one.labels.__name__, one.samples[0]!.timestamp])).toEqual([
    ...Array.from({ length: 800 }, () => ['channel_watts', 1000]),
    ['power_watts', 2000],
    ...Array.from({ length: 800 }, () => ['channel_watts', 4000]),
  ]);
  expect(requestBody([blocks[1]!])).toBe(blocks[1]);
});
