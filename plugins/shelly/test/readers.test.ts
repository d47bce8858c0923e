import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Sample } from '@edge-metrics/core/plugin';
import { generationOf, readGen1Status, readGen2Status } from '../src/readers';
import { FIXTURES, fixture } from './helpers';

interface Expected {
  generation?: 1 | 2;
  channels?: number[];
  samples?: Sample[];
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Same series and values, in any order; values compared to 1e-9 relative, since the units were converted. */
function expectSamples(actual: Sample[], expected: Sample[]): void {
  const byKey = (samples: Sample[]): Map<string, number> =>
    new Map(samples.map((sample) => [`${sample.name}${JSON.stringify(sample.labels)}`, sample.value]));
  const got = byKey(actual);
  const want = byKey(expected);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, value] of want) {
    expect(Math.abs(got.get(key)! - value)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
  }
}

describe('readers on recorded device answers', () => {
  it('finds every fixture case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  describe.each(cases)('%s', (name) => {
    const expected = JSON.parse(fixture(name, 'expected.json')) as Expected;
    const hasFile = (file: string): boolean => existsSync(join(FIXTURES, name, file));

    if (hasFile('shelly.json')) {
      it('detects the API generation from GET /shelly', () => {
        expect(generationOf(JSON.parse(fixture(name, 'shelly.json')))).toBe(expected.generation);
      });
    }

    if (hasFile('status.json')) {
      it('reads the status into samples', () => {
        const status = JSON.parse(fixture(name, 'status.json'));
        const read = expected.generation === 1 ? readGen1Status : readGen2Status;
        expectSamples(read(status, 'lab', expected.channels ?? [0]), expected.samples ?? []);
      });
    }
  });
});

describe('readers on answers that are not what a Shelly sends', () => {
  const readers = [
    ['Gen1', readGen1Status],
    ['Gen2+', readGen2Status],
  ] as const;
  const allFinite = (samples: Sample[]): boolean => samples.every((sample) => Number.isFinite(sample.value));

  it.each(readers)('%s: never throws and never emits a non-finite value for any JSON value', (_, read) => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.nat(4), { minLength: 1, maxLength: 3 }), (status, channels) => {
        expect(allFinite(read(status, 'lab', channels))).toBe(true);
      }),
    );
  });

  it.each(readers)('%s: survives any one field of a real answer replaced by any JSON value', (_, read) => {
    const statuses = cases
      .filter((name) => existsSync(join(FIXTURES, name, 'status.json')))
      .map((name) => JSON.parse(fixture(name, 'status.json')) as unknown);
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.nat(), fc.jsonValue(), (status, pick, replacement) => {
        const copy = structuredClone(status);
        const paths = objectPaths(copy);
        const [parent, key] = paths[pick % paths.length]!;
        parent[key] = replacement;
        expect(allFinite(read(copy, 'lab', [0, 1, 2]))).toBe(true);
      }),
    );
  });

  it('leaves out values that are numbers in JSON but not finite (1e400 parses to Infinity)', () => {
    const status = JSON.parse('{"switch:0": {"output": true, "apower": 1e400, "voltage": -1e400, "aenergy": {"total": 1e400}}}');
    expect(readGen2Status(status, 'lab', [0])).toEqual([
      { name: 'shelly_relay_on', value: 1, labels: { plug: 'lab', channel: '0' } },
      { name: 'shelly_overtemperature', value: 0, labels: { plug: 'lab', channel: '0' } },
    ]);
  });

  it('skips a Gen1 meter whose self-check failed (is_valid: false)', () => {
    const status = JSON.parse(fixture('gen1-plug', 'status.json'));
    status.meters[0].is_valid = false;
    const names = readGen1Status(status, 'lab', [0]).map((sample) => sample.name);
    expect(names).not.toContain('shelly_power_watts');
    expect(names).not.toContain('shelly_energy_joules_total');
    expect(names).toContain('shelly_relay_on');
  });

  it('names no generation for answers that are not a Shelly', () => {
    for (const info of [null, [], 'gen', {}, { gen: '2' }, { gen: 1 }, { type: 7 }]) {
      expect(generationOf(info)).toBeUndefined();
    }
  });
});

/** Every [object, key] in a JSON tree, so that a test can replace one value. */
function objectPaths(value: unknown): Array<[Record<string | number, unknown>, string | number]> {
  if (typeof value !== 'object' || value === null) return [];
  const container = value as Record<string | number, unknown>;
  const keys: Array<string | number> = Array.isArray(value) ? value.map((_, index) => index) : Object.keys(value);
  return keys.flatMap((key) => [[container, key] as [typeof container, typeof key], ...objectPaths(container[key])]);
}
