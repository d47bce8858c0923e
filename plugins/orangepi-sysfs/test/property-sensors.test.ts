import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { createLogger, FamilyIndex, resolveOptions, type Sample } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import { create, manifest } from '../src';
import { parseSnapshot, type HwmonDevice, type PowerSupply, type ThermalZone } from '../src/sensors';

/**
 * The sysfs readers on whatever a driver (or something in its place) writes: files holding huge, negative,
 * fractional or non-numeric text, names that collide. Nothing throws, every value is finite, and no series is
 * reported twice.
 */

const families = new FamilyIndex(manifest.metrics);

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.integer({ min: -5_000_000, max: 5_000_000 }).map((value) => `${value}\n`),
  fc.constantFrom('9'.repeat(40), `-${'9'.repeat(40)}`, '9007199254740993', '-0', '0x10', '1e3', '4.2', 'NaN', 'Infinity', '', '\n', ' 12 ', '12abc', '\u0000'),
  fc.bigInt().map(String),
  fc.double().map(String),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const nameText = fc.oneof(
  fc.constantFrom('ina219', 'ina3221', 'VDD_IN', 'VIN', 'axp20x_usb', 'acpitz', 'cpu-thermal', 'ina219@hwmon1', 'ina219/in1', '', ' ', '\n'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const channel = fc.integer({ min: 0, max: 3 });
const hwmonFiles = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constantFrom('in', 'curr', 'power'), channel, fc.constant('_input'), numberText),
      fc.tuple(fc.constantFrom('in', 'curr', 'power'), channel, fc.constant('_label'), nameText),
    ),
    { maxLength: 8 },
  )
  .chain((entries) => fc.record({ name: nameText }, { requiredKeys: [] }).map((named) => ({ ...named, ...Object.fromEntries(entries.map(([kind, index, suffix, text]) => [`${kind}${index}${suffix}`, text])) })));
const hwmon: fc.Arbitrary<HwmonDevice[]> = fc
  .array(fc.record({ device: fc.option(fc.constantFrom('1-0040', '1-0041', '2-0040', 'hwmon1'), { nil: undefined }), files: hwmonFiles }), { maxLength: 4 })
  .map((devices) => devices.map(({ device, files }, i) => ({ dir: `hwmon${i}`, ...(device === undefined ? {} : { device }), files })));
const supplies: fc.Arbitrary<PowerSupply[]> = fc
  .uniqueArray(
    fc.record({
      name: fc.oneof(fc.constantFrom('axp20x-usb', 'axp20x-ac', 'battery', 'tcpm-source-psy-4-0022', 'ina219'), fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/)),
      files: fc.record(
        { type: fc.oneof(fc.constantFrom('Mains', 'USB', 'USB_PD', 'Battery', 'UPS'), nameText), online: fc.oneof(fc.constantFrom('0', '1', '1\n'), numberText), voltage_now: numberText, current_now: numberText, power_now: numberText },
        { requiredKeys: [] },
      ),
    }),
    { maxLength: 3, selector: (supply) => supply.name },
  );
const zones: fc.Arbitrary<ThermalZone[]> = fc
  .array(fc.record({ type: nameText, temp: numberText }, { requiredKeys: [] }), { maxLength: 4 })
  .map((files) => files.map((zone, i) => ({ dir: `thermal_zone${i}`, files: zone })));
const snapshot = fc.record({ hwmon, supplies, zones });

const where = { hwmon: join, supply: join, zone: join };
const duplicates = (keys: string[]) => keys.filter((key, i) => keys.indexOf(key) !== i);

/** Always tried: names that collide with the names given to tell two other chips or zones apart. */
const collisions: Array<[{ hwmon: HwmonDevice[]; supplies: PowerSupply[]; zones: ThermalZone[] }]> = [
  [
    {
      hwmon: [
        { dir: 'hwmon0', files: { name: 'ina219', in1_input: '5000' } },
        { dir: 'hwmon1', files: { name: 'ina219', in1_input: '5001' } },
        { dir: 'hwmon2', files: { name: 'ina219@hwmon1', in1_input: '5002' } },
      ],
      supplies: [],
      zones: [
        { dir: 'thermal_zone0', files: { type: 'acpitz', temp: '40000' } },
        { dir: 'thermal_zone1', files: { type: 'acpitz', temp: '41000' } },
        { dir: 'thermal_zone2', files: { type: 'acpitz@thermal_zone1', temp: '42000' } },
      ],
    },
  ],
];

describe('the sysfs readers on anything a driver may write', () => {
  test('parseSnapshot, 3000 snapshots: never throws; finite values; each sensor and zone named once', () => {
    fc.assert(
      fc.property(snapshot, (sources) => {
        const { readings, temperatures } = parseSnapshot(sources, where);
        expect([...readings.map((reading) => reading.value), ...temperatures.map((zone) => zone.celsius)].filter((value) => !Number.isFinite(value))).toEqual([]);
        expect(duplicates(readings.map((reading) => `${reading.kind} ${reading.sensor}`))).toEqual([]);
        expect(duplicates(temperatures.map((zone) => zone.zone))).toEqual([]);
      }),
      { numRuns: 3000, examples: collisions },
    );
  });

  describe('the collector on such trees written to disk', () => {
    let tree: FixtureTree;
    beforeEach(async () => {
      tree = await FixtureTree.create();
    });
    afterEach(() => tree.dispose());

    async function write(sources: { hwmon: HwmonDevice[]; supplies: PowerSupply[]; zones: ThermalZone[] }, round: number): Promise<string> {
      const root = `sys${round}`;
      const files = [
        ...sources.hwmon.flatMap(({ dir, files: own }) => Object.entries(own).map(([file, text]) => [`class/hwmon/${dir}/${file}`, text] as const)),
        ...sources.supplies.flatMap(({ name, files: own }) => Object.entries(own).map(([file, text]) => [`class/power_supply/${name}/${file}`, text] as const)),
        ...sources.zones.flatMap(({ dir, files: own }) => Object.entries(own).map(([file, text]) => [`class/thermal/${dir}/${file}`, text] as const)),
      ];
      for (const [file, text] of files) await tree.write(`${root}/${file}`, text!);
      for (const { dir, device } of sources.hwmon) {
        if (!device) continue;
        await mkdir(tree.path(`${root}/class/hwmon/${dir}`), { recursive: true });
        await tree.link(`../../../devices/${device}`, `${root}/class/hwmon/${dir}/device`);
      }
      return tree.path(root);
    }

    test('200 trees: collect() returns or throws an Error, and every sample is finite, declared and unique', async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(snapshot, async (sources) => {
          const root = await write(sources, round++);
          const collector = create(resolveOptions(manifest, { sysfs_root: root }, 'options'), {
            deviceType: 'orangepi',
            collectorName: 'sysfs',
            interval: 1,
            logger: createLogger('error', () => undefined),
          });
          let samples: Sample[];
          try {
            samples = await collector.collect();
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
            return;
          }
          expect(samples.filter((sample) => !Number.isFinite(sample.value) || families.find(sample.name) === undefined)).toEqual([]);
          expect(duplicates(samples.map((sample) => `${sample.name}${JSON.stringify(sample.labels ?? {})}`))).toEqual([]);
        }),
        { numRuns: 200, examples: collisions },
      );
    });
  });
});
