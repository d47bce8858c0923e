import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRaspberryPiModel, parseDeviceTreeModel, parseMillidegreesCelsius } from '../src/sysfs-values';
import { parsePmicAdc, parseThrottled } from '../src/vcgencmd-output';
import { FIXTURES } from './helpers';

/** Each parser by the name the fixtures' expected.json gives it. */
const PARSERS: Record<string, (input: string, path: string) => unknown> = {
  pmic_read_adc: (input) => parsePmicAdc(input),
  get_throttled: (input) => parseThrottled(input),
  thermal_zone_temp: (input, path) => parseMillidegreesCelsius(input, path),
  devicetree_model: (input) => {
    const model = parseDeviceTreeModel(input);
    return { model, raspberryPi: isRaspberryPiModel(model) };
  },
};

interface FixtureCase {
  parser: string;
  input: string;
  expected: unknown;
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => {
    const spec = JSON.parse(readFileSync(join(FIXTURES, entry.name, 'expected.json'), 'utf8')) as FixtureCase;
    return [entry.name, spec] as const;
  });

/** Numbers compared to 9 decimals (products of the PMIC's 8-decimal readings), everything else exactly. */
function expectMatches(actual: unknown, expected: unknown, at: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual).toBe('number');
    expect([at, actual as number]).toEqual([at, expect.closeTo(expected, 9)]);
  } else if (Array.isArray(expected)) {
    expect([at, (actual as unknown[]).length]).toEqual([at, expected.length]);
    expected.forEach((item, index) => expectMatches((actual as unknown[])[index], item, `${at}[${index}]`));
  } else if (typeof expected === 'object' && expected !== null) {
    expect([at, Object.keys(actual as object).sort()]).toEqual([at, Object.keys(expected).sort()]);
    for (const [key, value] of Object.entries(expected)) expectMatches((actual as Record<string, unknown>)[key], value, `${at}.${key}`);
  } else {
    expect([at, actual]).toEqual([at, expected]);
  }
}

describe('parsers on real captures (test/fixtures)', () => {
  it('finds the fixture cases', () => {
    expect(cases.map(([name]) => name)).toEqual(expect.arrayContaining(['pmic-pi5-jfikar', 'throttled-pi3-undervoltage-0x50005']));
  });

  it.each(cases)('%s', (name, spec) => {
    const parse = PARSERS[spec.parser];
    if (!parse) throw new Error(`test/fixtures/${name}/expected.json names an unknown parser '${spec.parser}'`);
    const path = join(FIXTURES, name, spec.input);
    expectMatches(parse(readFileSync(path, 'utf8'), path), spec.expected, name);
  });
});

describe('parser edge cases', () => {
  it('reads rail names with their numbers and ignores voltage-only channels', () => {
    const rails = parsePmicAdc(readFileSync(join(FIXTURES, 'pmic-pi5-jfikar', 'output.txt'), 'utf8'));
    expect(rails.map((rail) => rail.rail)).toEqual([
      '3V7_WL_SW', '3V3_SYS', '1V8_SYS', 'DDR_VDD2', 'DDR_VDDQ', '1V1_SYS', '0V8_SW', 'VDD_CORE', '3V3_DAC', '3V3_ADC', '0V8_AON', 'HDMI',
    ]);
  });

  it('reads the NUL-separated blob that the firmware mailbox returns', () => {
    const text = readFileSync(join(FIXTURES, 'pmic-pi5-zeus-load', 'output.txt'), 'utf8');
    expect(parsePmicAdc(text.replace(/\n/g, '\0'))).toEqual(parsePmicAdc(text));
  });

  it('finds no rails where vcgencmd printed none', () => {
    expect(parsePmicAdc('')).toEqual([]);
  });

  it('says what get_throttled printed when it is not a throttled value', () => {
    expect(() => parseThrottled('VCHI initialization failed\n')).toThrow(
      '\'vcgencmd get_throttled\' printed "VCHI initialization failed", not throttled=0x<hex>',
    );
  });

  it('says which file holds a temperature that is not a number', () => {
    expect(() => parseMillidegreesCelsius('\n', '/sys/class/thermal/thermal_zone0/temp')).toThrow(
      '/sys/class/thermal/thermal_zone0/temp holds "", not millidegrees Celsius',
    );
  });

  it('does not take another board for a Raspberry Pi', () => {
    // The model of Linux's arch/arm64/boot/dts/rockchip/rk3588-rock-5b.dts.
    expect(isRaspberryPiModel(parseDeviceTreeModel('Radxa ROCK 5B\0'))).toBe(false);
  });
});
