import { readdirSync } from 'node:fs';
import { jetsonSamples } from '../src/metrics';
import { parseTegrastatsLine, TegrastatsLineError } from '../src/tegrastats';
import { byName, fixture, FIXTURES } from './helpers';

// Every fixture is a line tegrastats printed on a real board (sources in fixtures/README.md) next to the values
// it must give.
const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('parseTegrastatsLine + jetsonSamples on recorded lines', () => {
  it('has a fixture for every generation', () => {
    expect(cases).toEqual(
      expect.arrayContaining(['nano-l4t32', 'tx1-l4t28', 'tx2-l4t32-off-cores', 'xavier-agx-jp42', 'orin-agx-jp72', 'thor-r38.4', 'thor-no-gpu-emc']),
    );
  });

  it.each(cases)('%s', async (name) => {
    const { line, expected } = await fixture(name);
    const reading = parseTegrastatsLine(line);
    expect(reading.unrecognized).toEqual([]);
    const actual = byName(jetsonSamples(reading));
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const [metric, value] of Object.entries(expected)) {
      expect([metric, actual[metric]]).toEqual([metric, expect.closeTo(value, 9)]);
    }
  });
});

describe('parseTegrastatsLine on what a real line holds', () => {
  it('keeps the printed numbering of cores around an off core', async () => {
    const reading = parseTegrastatsLine((await fixture('tx2-l4t32-off-cores')).line);
    expect(reading.cpuCores).toEqual([
      { usagePercent: 1, freqMhz: 345 },
      'off',
      'off',
      { usagePercent: 1, freqMhz: 345 },
      { usagePercent: 0, freqMhz: 345 },
      { usagePercent: 2, freqMhz: 345 },
    ]);
  });

  it('drops zones that read -256 °C and rails printed as NC', async () => {
    const reading = parseTegrastatsLine((await fixture('orin-agx-timestamp-nc')).line);
    expect([...reading.temperaturesCelsius.keys()]).toEqual(['CPU', 'Tboard', 'SOC2', 'Tdiode', 'SOC0', 'tj', 'SOC1']);
    expect([...reading.railsMilliwatts.keys()]).toEqual(['VDD_GPU_SOC', 'VDD_CPU_CV', 'VIN_SYS_5V0', 'VDDQ_VDD2_1V8AO']);
  });

  it('reads the first of current/max temperatures and of instantaneous/average/max rails (JetPack 7)', async () => {
    const reading = parseTegrastatsLine((await fixture('orin-agx-jp72')).line);
    expect(reading.temperaturesCelsius.get('cpu')).toBe(52.968);
    expect(reading.railsMilliwatts.get('VIN_SYS_5V0')).toBe(5500);
  });

  it('skips a field it does not know and reads the rest', async () => {
    // A field from a release this parser has not seen, simulated by inserting an unknown word into a real line.
    const { line } = await fixture('thor-r38.4');
    const reading = parseTegrastatsLine(line.replace(' APE 300 ', ' FUTURE_ENGINE ~42~ APE 300 '));
    expect(reading.unrecognized).toEqual(['FUTURE_ENGINE', '~42~']);
    expect(byName(jetsonSamples(reading))).toEqual(byName(jetsonSamples(parseTegrastatsLine(line))));
  });
});

describe('parseTegrastatsLine on what is not a tegrastats line', () => {
  it.each([
    ['an error message', 'tegrastats: Permission denied'],
    ['an empty line', ''],
  ])('throws a TegrastatsLineError for %s, quoting the line', (_what, line) => {
    expect(() => parseTegrastatsLine(line)).toThrow(TegrastatsLineError);
    expect(() => parseTegrastatsLine(line)).toThrow(`not a tegrastats line (it has no RAM field): ${JSON.stringify(line)}`);
  });

  it('throws for the tail of a real line whose start was lost', async () => {
    const { line } = await fixture('tx2-l4t32-off-cores');
    const tail = line.slice(line.indexOf('CPU ['));
    expect(() => parseTegrastatsLine(tail)).toThrow(TegrastatsLineError);
  });
});
