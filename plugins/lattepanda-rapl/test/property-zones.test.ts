import { rm } from 'node:fs/promises';
import fc from 'fast-check';
import { createLogger, FamilyIndex, resolveOptions, type Sample } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import { create, manifest } from '../src';
import { parseZones, seriesLabels, type ZoneFiles } from '../src/zones';

/**
 * The RAPL readers on whatever the powercap files hold from one read to the next: counters that jump back,
 * wrap, overflow a safe integer or are not numbers, ranges that change, zone names that collide. Nothing throws
 * but the documented errors, every value is finite, no series is reported twice, and no counter goes backwards.
 */

const families = new FamilyIndex(manifest.metrics);

const counterText = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 2 ** 40 }).map((value) => `${value}\n`) },
  { weight: 2, arbitrary: fc.constantFrom('262143328850\n', '0\n', '9007199254740991', '9007199254740993', '-1', '', 'N/A', '1e6', '4.2', ' 17 ') },
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const zoneName = fc.oneof(fc.constantFrom('package-0', 'package-1', 'core', 'uncore', 'dram', 'psys', 'core@intel-rapl:0:0', '', ' '), fc.string({ maxLength: 10 }));
const dirs = ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1', 'intel-rapl:0:2', 'intel-rapl:1', 'intel-rapl:1:0', 'intel-rapl:10'];
const zoneFiles: fc.Arbitrary<ZoneFiles[]> = fc
  .subarray(dirs, { minLength: 1 })
  .chain((chosen) =>
    fc.tuple(...chosen.map((dir) => fc.record({ dir: fc.constant(dir), name: zoneName, energyUj: fc.option(counterText, { nil: undefined }), maxEnergyRangeUj: fc.option(counterText, { nil: undefined }) }))),
  );

const duplicates = (keys: string[]) => keys.filter((key, i) => keys.indexOf(key) !== i);
/** Always tried: a zone named as another's tagged name, so that tagging alone would still collide. */
const collision: ZoneFiles[] = [
  { dir: 'intel-rapl:0', name: 'package-0', energyUj: '1', maxEnergyRangeUj: '100' },
  { dir: 'intel-rapl:0:0', name: 'core', energyUj: '1', maxEnergyRangeUj: '100' },
  { dir: 'intel-rapl:0:1', name: 'core', energyUj: '1', maxEnergyRangeUj: '100' },
  { dir: 'intel-rapl:0:2', name: 'core@intel-rapl:0:0', energyUj: '1', maxEnergyRangeUj: '100' },
];

describe('the RAPL readers on anything the powercap files hold', () => {
  test('parseZones, 3000 sets of zones: never throws; finite values; each zone labelled once', () => {
    fc.assert(
      fc.property(zoneFiles, (files) => {
        const { zones } = parseZones(files, (dir, file) => `${dir}/${file}`);
        expect(zones.filter((zone) => !Number.isFinite(zone.energyUj) || !Number.isFinite(zone.maxEnergyRangeUj))).toEqual([]);
        expect(duplicates([...seriesLabels(zones).values()].map((labels) => JSON.stringify(labels)))).toEqual([]);
      }),
      { numRuns: 3000, examples: [[collision]] },
    );
  });

  describe('the collector over reads that change in any way', () => {
    let tree: FixtureTree;
    beforeEach(async () => {
      tree = await FixtureTree.create();
    });
    afterEach(() => tree.dispose());

    /** Always tried: a package's counter wraps, then its zone comes back under another number (the driver reloaded). */
    const renumbered: ZoneFiles[][] = [
      [{ dir: 'intel-rapl:0', name: 'package-0', energyUj: '262143000000\n', maxEnergyRangeUj: '262143328850\n' }],
      [{ dir: 'intel-rapl:0', name: 'package-0', energyUj: '1000000\n', maxEnergyRangeUj: '262143328850\n' }],
      [{ dir: 'intel-rapl:1', name: 'package-0', energyUj: '2000000\n', maxEnergyRangeUj: '262143328850\n' }],
    ];

    test('100 sequences of up to 5 reads: finite, declared, unique, counters never backwards, power never negative', async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(zoneFiles, { minLength: 1, maxLength: 5 }), async (reads) => {
          const root = `sys${round++}`;
          const collector = create(resolveOptions(manifest, { sysfs_root: tree.path(root) }, 'options'), {
            deviceType: 'intel_rapl',
            collectorName: 'rapl',
            interval: 1,
            logger: createLogger('error', () => undefined),
          });
          const counters = new Map<string, number>();
          for (const files of reads) {
            // Each read finds exactly these zones and files, as after the driver was reloaded.
            await rm(tree.path(`${root}/class/powercap`), { recursive: true, force: true });
            await Promise.all(
              files.flatMap((zone) =>
                Object.entries({ name: zone.name, energy_uj: zone.energyUj, max_energy_range_uj: zone.maxEnergyRangeUj }).flatMap(([file, text]) =>
                  text === undefined ? [] : [tree.write(`${root}/class/powercap/${zone.dir}/${file}`, text)],
                ),
              ),
            );
            let samples: Sample[];
            try {
              samples = await collector.collect();
            } catch (error) {
              expect((error as Error).message).toMatch(/RAPL/);
              continue;
            }
            expect(samples.filter((sample) => !Number.isFinite(sample.value) || families.find(sample.name) === undefined)).toEqual([]);
            expect(duplicates(samples.map((sample) => `${sample.name}${JSON.stringify(sample.labels ?? {})}`))).toEqual([]);
            expect(samples.filter((sample) => sample.name.endsWith('_watts') && sample.value < 0)).toEqual([]);
            for (const sample of samples.filter((one) => one.name.endsWith('_joules_total'))) {
              const key = `${sample.name}${JSON.stringify(sample.labels ?? {})}`;
              expect([key, sample.value >= (counters.get(key) ?? 0)]).toEqual([key, true]);
              counters.set(key, sample.value);
            }
          }
        }),
        { numRuns: 100, examples: [[renumbered]] },
      );
    });
  });
});
