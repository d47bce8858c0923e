import { readFileSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { createLogger, FamilyIndex, resolveOptions, type Sample } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import type { I2cBus } from '../src/i2c-bus';
import { decodeBusVoltageVolts, decodeCurrentAmps, decodePowerWatts, swapBytes } from '../src/ina260-registers';
import { manifest } from '../src/manifest';
import { createRaspberryPiIna260Plugin } from '../src/plugin';
import { parseMillidegreesCelsius } from '../src/sysfs-values';
import { parsePmicAdc, parseThrottled } from '../src/vcgencmd-output';

/**
 * INA260 decoding and the Raspberry Pi's own readings on anything a bus, a sysfs file or vcgencmd may hand over:
 * words that are not 16-bit, transfers that fail, files and outputs holding huge or non-numeric text. Nothing
 * throws but a clear Error, every value is finite, and the INA260's within its datasheet range.
 */

const families = new FamilyIndex(manifest.metrics);
const FIXTURES = join(__dirname, 'fixtures');

/** Anything an I2C read might return: 16-bit words, and numbers no 16-bit register holds. */
const anyWord = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  fc.integer(),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -1, 0x10000, 2 ** 53, -0, 0.5),
);
/** SBOS656 §8.6.2–8.6.4: ±40.96 A in 1.25 mA steps, 0 to 81.92 V in 1.25 mV steps, 0 to 655.35 W in 10 mW steps. */
const inRange = ({ amps, volts, watts }: { amps: number; volts: number; watts: number }): boolean =>
  amps >= -40.96 && amps <= 40.95875 && volts >= 0 && volts <= 81.91875 && watts >= 0 && watts <= 655.35;

/** A bus with one INA260 at 0x40 that identifies itself correctly and answers the measurement registers with `next()`. */
function hostileBus(next: () => number | Error): I2cBus {
  return {
    async readWord(address, register) {
      if (address !== 0x40) throw Object.assign(new Error('EREMOTEIO, Remote I/O error'), { code: 'EREMOTEIO' });
      if (register === 0xfe) return swapBytes(0x5449);
      if (register === 0xff) return swapBytes(0x2270);
      const word = next();
      if (word instanceof Error) throw word;
      return word;
    },
    async writeWord() {},
    async close() {},
  };
}

describe('INA260 decoding on any word', () => {
  test('10000 words: decoded after the byte swap, every value is finite and within the datasheet range', () => {
    fc.assert(
      fc.property(anyWord, anyWord, anyWord, (current, voltage, power) => {
        const decoded = { amps: decodeCurrentAmps(swapBytes(current)), volts: decodeBusVoltageVolts(swapBytes(voltage)), watts: decodePowerWatts(swapBytes(power)) };
        expect([decoded, Object.values(decoded).every(Number.isFinite) && inRange(decoded)]).toEqual([decoded, true]);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('the collector on a hostile bus and a hostile sysfs', () => {
  let tree: FixtureTree;
  let vcgencmd: string;
  beforeAll(async () => {
    tree = await FixtureTree.create();
    // A vcgencmd that prints what a test wrote for each command.
    vcgencmd = tree.path('vcgencmd');
    await tree.write('vcgencmd', `#!/bin/sh\ncat "$(dirname "$0")/$1.out"\n`);
    await chmod(vcgencmd, 0o755);
  });
  afterAll(() => tree.dispose());

  const temperatureText = fc.oneof(
    fc.integer({ min: -40_000, max: 120_000 }).map((value) => `${value}\n`),
    fc.constantFrom('9'.repeat(400), `-${'9'.repeat(400)}`, '', 'N/A', '4.2e4', '0x10', '\u0000'),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );

  const pmicText = fc.oneof(
    fc.constant(readFileSync(join(FIXTURES, 'pmic-pi5-zeus-load', 'output.txt'), 'utf8')),
    fc.tuple(fc.constantFrom('VDD_CORE', '3V3_SYS', 'EXT5V'), fc.stringMatching(/^\d{1,310}(\.\d{1,5})?$/), fc.stringMatching(/^\d{1,310}(\.\d{1,5})?$/)).map(
      ([rail, amps, volts]) => `${rail}_A current(1)=${amps}A\n${rail}_V volt(9)=${volts}V\nVDD_CORE_A current(7)=1e300A\n`,
    ),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
  const throttledText = fc.oneof(fc.constantFrom('throttled=0x50005\n', 'throttled=0x\n', ''), fc.stringMatching(/^throttled=0x[0-9a-f]{0,30}\n$/), fc.string({ maxLength: 20 }));

  test('150 sequences of up to 5 collections: every sample finite, declared and in range; energy never backwards', async () => {
    let round = 0;
    const step = fc.tuple(fc.array(fc.oneof({ weight: 6, arbitrary: anyWord }, fc.constant(undefined)), { minLength: 3, maxLength: 3 }), temperatureText, pmicText, throttledText);
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(step, { minLength: 1, maxLength: 5 }), async (withIna260, steps) => {
        const root = `sys${round++}`;
        let words: Array<number | undefined> = [];
        const bus = hostileBus(() => {
          const word = words.shift();
          return word === undefined ? Object.assign(new Error('ETIMEDOUT, Connection timed out'), { code: 'ETIMEDOUT' }) : word;
        });
        const plugin = createRaspberryPiIna260Plugin(async () => bus);
        const options = resolveOptions(manifest, { sysfs_root: tree.path(root), vcgencmd_path: vcgencmd, ...(withIna260 ? {} : { sensors: [] }) }, 'options');
        const collector = plugin.create(options, { deviceType: 'raspberrypi', collectorName: 'pi', interval: 1, logger: createLogger('error', () => undefined) });
        let energy = 0;
        for (const [registers, temperature, pmic, throttled] of steps) {
          words = [...registers];
          await tree.write(`${root}/class/thermal/thermal_zone0/temp`, temperature);
          await tree.write('pmic_read_adc.out', pmic);
          await tree.write('get_throttled.out', throttled);
          let samples: Sample[];
          try {
            samples = await collector.collect();
          } catch (error) {
            expect((error as Error).message).toContain("INA260 'main' at 0x40 on /dev/i2c-1");
            continue;
          }
          expect(samples.filter((sample) => !Number.isFinite(sample.value) || families.find(sample.name) === undefined)).toEqual([]);
          const value = (name: string) => samples.find((sample) => sample.name === name)?.value;
          const reading = { amps: value('ina260_current_amps'), volts: value('ina260_bus_voltage_volts'), watts: value('ina260_power_watts') };
          if (reading.amps !== undefined) expect(inRange(reading as { amps: number; volts: number; watts: number })).toBe(true);
          const total = value('energy_joules_total');
          if (total !== undefined) {
            expect(total).toBeGreaterThanOrEqual(energy);
            energy = total;
          }
        }
        await collector.stop?.();
      }),
      { numRuns: 150 },
    );
  });

  test('PMIC rails that are each finite but add up past the largest double give no power_total_watts', async () => {
    const huge = `${'1'.padEnd(155, '0')}`;
    await tree.write('pmic_read_adc.out', `VDD_CORE_A current(7)=${huge}A\nVDD_CORE_V volt(15)=1.5V\nDDR_VDD2_A current(3)=${huge}A\nDDR_VDD2_V volt(11)=${huge}.5V\n3V3_SYS_A current(1)=${huge}A\n3V3_SYS_V volt(9)=${huge}V\n`);
    await tree.write('get_throttled.out', 'throttled=0x0\n');
    const options = resolveOptions(manifest, { sysfs_root: tree.path('none'), vcgencmd_path: vcgencmd, sensors: [] }, 'options');
    const collector = createRaspberryPiIna260Plugin(async () => hostileBus(() => 0)).create(options, { deviceType: 'raspberrypi', collectorName: 'pi', interval: 1, logger: createLogger('error', () => undefined) });
    let samples: Sample[] = [];
    for (const deadline = Date.now() + 10_000; !samples.some((sample) => sample.name === 'raspberrypi_pmic_rail_watts') && Date.now() < deadline; ) {
      samples = await collector.collect();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(samples.filter((sample) => sample.name === 'raspberrypi_pmic_rail_watts')).toHaveLength(3);
    expect(samples.filter((sample) => !Number.isFinite(sample.value))).toEqual([]);
    expect(samples.map((sample) => sample.name)).not.toContain('power_total_watts');
    await collector.stop?.();
  });
});

describe("the Raspberry Pi's own readings on any text", () => {
  const recorded = (name: string) => readFileSync(join(FIXTURES, name, 'output.txt'), 'utf8');
  const damaged = (text: string) =>
    fc.oneof(
      fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 10 })).map(([at, noise]) => text.slice(0, at % (text.length + 1)) + noise),
      fc.infiniteStream(fc.constantFrom('9'.repeat(400), '0', '1e400', 'NaN', '-1', '00.5', '')).map((numbers) => text.replace(/\d+(\.\d+)?/g, () => numbers.next().value)),
    );

  test('parsePmicAdc, 3000 outputs: never throws, every rail finite', () => {
    const output = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), damaged(recorded('pmic-pi5-jfikar')), damaged(recorded('pmic-pi5-zeus-load')));
    fc.assert(
      fc.property(output, (text) => {
        expect(parsePmicAdc(text).filter((rail) => ![rail.amps, rail.volts, rail.watts].every(Number.isFinite))).toEqual([]);
      }),
      { numRuns: 3000, examples: [[`VDD_CORE_A current(7)=${'9'.repeat(400)}A\nVDD_CORE_V volt(15)=0.8A\nVDD_CORE_V volt(15)=0.8V`]] },
    );
  });

  test('parseThrottled, 3000 outputs: eight flags, or an Error naming the command', () => {
    const output = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), damaged(recorded('throttled-pi3-undervoltage-0x50005')), fc.stringMatching(/^[0-9a-fA-F]{0,40}$/).map((hex) => `throttled=0x${hex}`));
    fc.assert(
      fc.property(output, (text) => {
        let flags: Record<string, boolean>;
        try {
          flags = parseThrottled(text);
        } catch (error) {
          expect((error as Error).message).toContain("'vcgencmd get_throttled' printed");
          return;
        }
        expect(Object.values(flags).filter((set) => typeof set !== 'boolean')).toEqual([]);
        expect(Object.keys(flags)).toHaveLength(8);
      }),
      { numRuns: 3000 },
    );
  });

  test('parseMillidegreesCelsius, 3000 texts: a finite temperature, or an Error naming the file', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.stringMatching(/^-?\d{1,400}\n?$/)), (text) => {
        let celsius: number;
        try {
          celsius = parseMillidegreesCelsius(text, '/sys/class/thermal/thermal_zone0/temp');
        } catch (error) {
          expect((error as Error).message).toContain('/sys/class/thermal/thermal_zone0/temp');
          return;
        }
        expect([text, Number.isFinite(celsius)]).toEqual([text, true]);
      }),
      { numRuns: 3000, examples: [['9'.repeat(400)]] },
    );
  });
});
