import fc from 'fast-check';
import { createLogger, FamilyIndex, resolveOptions, type Sample } from '@edge-metrics/core/plugin';
import { create, manifest } from '../src';
import { generationOf } from '../src/readers';
import { MockShelly } from './helpers';

/**
 * The collector polling a device whose answers change from poll to poll in any way (numbers at the ends of the
 * double range, wrong types, components appearing and vanishing, counters jumping back): every sample is finite
 * and declared, and no counter ever goes backwards.
 */

const families = new FamilyIndex(manifest.metrics);

const leaf = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, 1e305, 4e304, 0, -0, -1, 5e-324) },
  { weight: 2, arbitrary: fc.integer() },
  fc.boolean(),
  fc.string({ maxLength: 5 }),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const switchStatus = fc.record(
  { output: leaf, apower: leaf, voltage: leaf, current: leaf, aenergy: maybe(fc.record({ total: leaf })), temperature: maybe(fc.record({ tC: leaf })), errors: fc.oneof(fc.constant(['overtemp']), leaf) },
  { requiredKeys: [] },
);
const phases = ['a', 'b', 'c'].flatMap((phase) => [`${phase}_act_power`, `${phase}_voltage`, `${phase}_current`]);
const emStatus = fc.record({ total_act_power: leaf, total_current: leaf, ...Object.fromEntries(phases.map((key) => [key, leaf])) }, { requiredKeys: [] });
const emData = fc.record({ total_act: leaf, a_total_act_energy: leaf, b_total_act_energy: leaf, c_total_act_energy: leaf }, { requiredKeys: [] });
/** A Gen2+ `Shelly.GetStatus` answer with any of its components, each holding anything. */
const gen2Status = fc.record(
  {
    'switch:0': switchStatus,
    'switch:1': switchStatus,
    'pm1:0': fc.record({ apower: leaf, voltage: leaf, current: leaf, aenergy: fc.record({ total: leaf }) }, { requiredKeys: [] }),
    'em:1': emStatus,
    'emdata:1': emData,
    'em1:1': fc.record({ act_power: leaf, voltage: leaf, current: leaf }, { requiredKeys: [] }),
    'em1data:1': fc.record({ total_act_energy: leaf }, { requiredKeys: [] }),
    'temperature:0': fc.record({ tC: leaf }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const meter = fc.record({ power: leaf, total: leaf, is_valid: fc.oneof(fc.boolean(), leaf) }, { requiredKeys: [] });
/** A Gen1 `/status` answer. */
const gen1Status = fc.record(
  {
    relays: fc.array(fc.oneof(fc.record({ ison: leaf }, { requiredKeys: [] }), leaf), { maxLength: 3 }),
    meters: fc.array(fc.oneof(meter, leaf), { maxLength: 3 }),
    emeters: fc.array(fc.oneof(fc.record({ power: leaf, voltage: leaf, current: leaf, total: leaf, is_valid: leaf }, { requiredKeys: [] }), leaf), { maxLength: 3 }),
    temperature: leaf,
    tmp: fc.record({ tC: leaf, is_valid: leaf }, { requiredKeys: [] }),
    overtemperature: leaf,
  },
  { requiredKeys: [] },
);

const COUNTERS = new Set(['shelly_energy_joules_total', 'energy_joules_total']);
const seriesKey = (sample: Sample) => `${sample.name}${JSON.stringify(Object.entries(sample.labels ?? {}).sort())}`;

describe('the collector on answers that change in any way from poll to poll', () => {
  let mock: MockShelly;
  beforeAll(async () => {
    mock = await MockShelly.start({ routes: {} });
  });
  afterAll(() => mock.close());

  // Always tried: finite readings whose sum overflows, and a counter reset that overflows the monotonic total.
  const overflows: Record<1 | 2, Array<[Array<Record<string, unknown>>]>> = {
    2: [
      [[{ 'switch:0': { apower: Number.MAX_VALUE }, 'switch:1': { apower: Number.MAX_VALUE } }]],
      [[{ 'switch:0': { aenergy: { total: 4e304 } } }, { 'switch:0': { aenergy: { total: 3e304 } } }]],
    ],
    1: [
      [[{ meters: [{ power: Number.MAX_VALUE }, { power: Number.MAX_VALUE }] }]],
      [[{ meters: [{ total: 2e306 }] }, { meters: [{ total: 1.9e306 }] }]],
    ],
  };

  test.each([
    [2, '/rpc/Shelly.GetStatus', gen2Status],
    [1, '/status', gen1Status],
  ] as const)('Gen%s: 300 sequences of up to 6 answers: finite, declared, counters never backwards', async (generation, path, status) => {
    await fc.assert(
      fc.asyncProperty(fc.array(status as fc.Arbitrary<Record<string, unknown>>, { minLength: 1, maxLength: 6 }), async (answers) => {
        const collector = create(resolveOptions(manifest, { host: mock.host, generation, channel: [0, 1], total: true }, 'options'), {
          deviceType: 'shelly',
          collectorName: 'plug',
          interval: 5,
          logger: createLogger('error', () => undefined),
        });
        const last = new Map<string, number>();
        for (const answer of answers) {
          mock.routes.set(path, JSON.stringify(answer));
          const samples = await collector.collect();
          expect(samples.filter((sample) => !Number.isFinite(sample.value) || families.find(sample.name) === undefined)).toEqual([]);
          for (const sample of samples.filter((one) => COUNTERS.has(one.name))) {
            const key = seriesKey(sample);
            expect([key, sample.value >= (last.get(key) ?? -Infinity)]).toEqual([key, true]);
            last.set(key, sample.value);
          }
        }
      }),
      { numRuns: 300, examples: overflows[generation] },
    );
  });

  test('generationOf takes any value, JSON or not, without throwing', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true }), (info) => {
        expect([undefined, 1, 2]).toContain(generationOf(info));
      }),
      { numRuns: 2000 },
    );
  });
});
