import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInteger, parseSnapshot, type PowerSupply, type Reading } from '../src/sensors';
import { readSysfs } from '../src/sysfs';
import { inputSensor, sensorFilter, sensorPattern } from '../src/total';
import type { FixtureTree } from '@edge-metrics/core/testing';
import { board, fixtures } from './helpers';

const where = { hwmon: join, supply: join, zone: join };
const cases = readdirSync(fixtures, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(join(fixtures, entry.name)).includes('expected.json'))
  .map((entry) => entry.name);

describe('parsing the sysfs trees of real boards', () => {
  test('every case is checked', () => {
    expect(cases).toEqual(['allwinner-a20-axp209-battery', 'amdgpu-apu-labels', 'ina219-ups-hat', 'orangepi5-rk3588']);
  });

  test.each(cases)('%s', async (name) => {
    const snapshot = await readSysfs(join(fixtures, name, 'sys'));
    expect(snapshot.failures).toEqual([]);
    expect(parseSnapshot(snapshot, where)).toEqual(JSON.parse(readFileSync(join(fixtures, name, 'expected.json'), 'utf8')));
  });
});

describe('numbers as sysfs writes them', () => {
  test.each([
    ['4228\n', 4228],
    ['-40\n', -40],
    ['0', 0],
  ])('%j is %d', (text, value) => {
    expect(parseInteger(text)).toBe(value);
  });

  test.each(['', '\n', 'N/A', '4.228', '0x10', '1e3', '99999999999999999999'])('%j is not a number', (text) => {
    expect(parseInteger(text)).toBeUndefined();
  });
});

describe('sensor names and computed power', () => {
  let tree: FixtureTree;
  afterEach(() => tree.dispose());
  const parseTree = async () => parseSnapshot(await readSysfs(tree.path('sys')), where);

  test('a chip with voltage and current but no power channel gets power computed as V×I', async () => {
    tree = await board('ina219-ups-hat');
    await tree.remove('sys/class/hwmon/hwmon2/power1_input');
    const { readings } = await parseTree();
    expect(readings.find((reading) => reading.kind === 'power')).toEqual({ kind: 'power', sensor: 'ina219/power1', channel: 'power1', value: 4.228 * -0.04 });
  });

  test('a labelled current channel names the computed power', async () => {
    tree = await board('ina219-ups-hat');
    await tree.remove('sys/class/hwmon/hwmon2/power1_input');
    await tree.write('sys/class/hwmon/hwmon2/curr1_label', 'VBAT\n');
    const { readings } = await parseTree();
    expect(readings.filter((reading) => reading.sensor === 'ina219/VBAT').map((reading) => reading.kind)).toEqual(['current', 'power']);
  });

  test('two chips with the same name are told apart by their device, or by their hwmon directory without one', async () => {
    tree = await board('ina219-ups-hat');
    await tree.copy('sys/class/hwmon/hwmon2', 'sys/class/hwmon/hwmon3');
    await tree.copy('sys/class/hwmon/hwmon2', 'sys/class/hwmon/hwmon4');
    await tree.link('../../../devices/platform/soc/fe804000.i2c/i2c-1/1-0041', 'sys/class/hwmon/hwmon3/device');
    const { readings } = await parseTree();
    const powers = readings.filter((reading) => reading.kind === 'power').map((reading) => reading.sensor);
    expect(powers).toEqual(['ina219@hwmon2/power1', 'ina219@1-0041/power1', 'ina219@hwmon4/power1']);
  });

  test('two channels of one chip with the same label are told apart by their channel', async () => {
    tree = await board('amdgpu-apu-labels');
    await tree.write('sys/class/hwmon/hwmon3/in1_label', 'vddgfx\n');
    await tree.write('sys/class/hwmon/hwmon3/in1_input', '1064\n');
    const { readings } = await parseTree();
    expect(readings.map((reading) => reading.sensor)).toEqual(['amdgpu/vddgfx@in0', 'amdgpu/vddgfx@in1']);
  });

  test('thermal zones with the same type are told apart by their directory', async () => {
    tree = await board('orangepi5-rk3588');
    await tree.write('sys/class/thermal/thermal_zone6/type', 'gpu-thermal\n');
    const { temperatures } = await parseTree();
    expect(temperatures.map((temperature) => temperature.zone).filter((zone) => zone.startsWith('gpu'))).toEqual([
      'gpu-thermal@thermal_zone5',
      'gpu-thermal@thermal_zone6',
    ]);
  });

  test("a power supply's hwmon mirror is left out and the supply reported once", async () => {
    tree = await board('orangepi5-rk3588');
    const { readings } = await parseTree();
    expect(readings.some((reading) => reading.sensor.startsWith('tcpm_source_psy'))).toBe(false);
    await tree.remove('sys/class/power_supply/tcpm-source-psy-6-0022/type');
    await tree.remove('sys/class/power_supply/tcpm-source-psy-6-0022/voltage_now');
    await tree.remove('sys/class/power_supply/tcpm-source-psy-6-0022/current_now');
    const withoutSupply = await parseTree();
    expect(withoutSupply.readings.map((reading) => reading.sensor)).toEqual(['tcpm_source_psy_6_0022/curr1', 'tcpm_source_psy_6_0022/in0']);
  });

  test('a file holding garbage is a problem naming the file; the other readings stay', () => {
    const parsed = parseSnapshot(
      {
        hwmon: [{ dir: 'hwmon2', files: { name: 'ina219\n', in1_input: '4228\n', curr1_input: 'garbage\n' } }],
        supplies: [{ name: 'axp20x-battery', files: { voltage_now: '\n', current_now: '523000\n' } }],
        zones: [{ dir: 'thermal_zone0', files: { type: 'soc-thermal\n', temp: 'N/A\n' } }],
      },
      where,
    );
    expect(parsed.readings).toEqual([
      { kind: 'voltage', sensor: 'ina219/in1', channel: 'in1', value: 4.228 },
      { kind: 'current', sensor: 'axp20x-battery', channel: 'current_now', value: 0.523 },
    ]);
    expect(parsed.temperatures).toEqual([]);
    expect(parsed.problems).toEqual([
      { file: 'hwmon2/curr1_input', message: 'hwmon2/curr1_input holds "garbage", not a whole number' },
      { file: 'axp20x-battery/voltage_now', message: 'axp20x-battery/voltage_now holds "", not a whole number' },
      { file: 'thermal_zone0/temp', message: 'thermal_zone0/temp holds "N/A", not a whole number' },
    ]);
  });
});

describe('the input supply, for power_total_watts without total_sensor', () => {
  const power = (sensor: string): Reading => ({ kind: 'power', sensor, channel: 'power_now', value: 5 });
  const supply = (name: string, type: string, online?: string): PowerSupply => ({
    name,
    files: online === undefined ? { type: `${type}\n` } : { type: `${type}\n`, online: `${online}\n` },
  });

  test('is the one online Mains or USB supply that reports power', () => {
    const supplies = [supply('axp20x-ac', 'Mains', '1'), supply('axp20x-usb', 'USB', '0'), supply('axp20x-battery', 'Battery', '1')];
    const readings = ['axp20x-ac', 'axp20x-usb', 'axp20x-battery'].map(power);
    expect(inputSensor(supplies, readings)).toEqual({ sensor: 'axp20x-ac', candidates: ['axp20x-ac'] });
  });

  test('is not a USB-C port manager, whose figures are a negotiated contract', () => {
    expect(inputSensor([supply('tcpm-source-psy-6-0022', 'USB')], [power('tcpm-source-psy-6-0022')])).toEqual({ candidates: [] });
  });

  test('is not chosen among several: they are returned as candidates', () => {
    const supplies = [supply('axp20x-ac', 'Mains', '1'), supply('axp20x-usb', 'USB', '1')];
    expect(inputSensor(supplies, supplies.map((s) => power(s.name)))).toEqual({ candidates: ['axp20x-ac', 'axp20x-usb'] });
  });

  test('is, without one, the hwmon channel labelled VDD_IN or VIN', () => {
    expect(inputSensor([], [power('ina3221/VDD_IN'), power('ina3221/VDD_CPU_GPU_CV')])).toEqual({ sensor: 'ina3221/VDD_IN', candidates: ['ina3221/VDD_IN'] });
  });
});

describe('sensor patterns', () => {
  test.each([
    ['ina219/*', 'ina219/power1', true],
    ['ina219/*', 'ina219@1-0041/power1', false],
    ['ina219*', 'ina219@1-0041/power1', true],
    ['*/in?', 'ina219/in1', true],
    ['*/in?', 'ina219/in10', false],
    ['axp20x-battery', 'axp20x-battery', true],
    ['axp20x-battery', 'axp20x-battery2', false],
    ['tcpm-source-psy-6-0022', 'tcpm-source-psy-6-0022', true],
    ['(ina)', '(ina)', true],
  ])('%s matches %s: %s', (pattern, sensor, matches) => {
    expect(sensorPattern(pattern).test(sensor)).toBe(matches);
  });

  test('include keeps only what matches; exclude then removes', () => {
    const exposed = sensorFilter(['ina219/*', 'axp20x-*'], ['*/in0']);
    expect(['ina219/in0', 'ina219/in1', 'axp20x-battery', 'tcpm-source-psy-6-0022'].filter(exposed)).toEqual(['ina219/in1', 'axp20x-battery']);
    expect(['a', 'b'].filter(sensorFilter([], []))).toEqual(['a', 'b']);
  });
});
