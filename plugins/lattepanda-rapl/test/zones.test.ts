import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readPowercap } from '../src/powercap';
import { isZoneDir, parseMicroUnits, parseZones, seriesLabels, type RaplZone } from '../src/zones';
import { fixtures } from './helpers';

const cases = readdirSync(fixtures, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(join(fixtures, entry.name)).includes('expected.json'))
  .map((entry) => entry.name);

describe('parsing the powercap trees of real machines', () => {
  test('every case with an expected output is checked', () => {
    expect(cases).toEqual(['laptop-package-core-uncore', 'xeon-4-socket-core-dram', 'xeon-zone-index-not-package']);
  });

  test.each(cases)('%s', async (name) => {
    const snapshot = await readPowercap(join(fixtures, name, 'sys'));
    expect(snapshot.failures).toEqual([]);
    const parsed = parseZones(snapshot.files, (dir, file) => `${dir}/${file}`);
    expect(parsed).toEqual(JSON.parse(readFileSync(join(fixtures, name, 'expected.json'), 'utf8')));
  });
});

describe('zone directories', () => {
  test.each([
    ['intel-rapl:0', true],
    ['intel-rapl:0:2', true],
    ['intel-rapl:12', true],
    ['intel-rapl', false],
    ['intel-rapl-mmio:0', false],
    ['intel-rapl:', false],
    ['dtpm', false],
  ])('%s is a zone: %s', (entry, zone) => {
    expect(isZoneDir(entry)).toBe(zone);
  });

  test('the layout with an intel-rapl-mmio twin lists only the intel-rapl zones', async () => {
    // The capture holds the zone names only: every zone is found and reported without its counter.
    const snapshot = await readPowercap(join(fixtures, 'xps-7390-psys-mmio', 'sys'));
    expect(snapshot.zoneCount).toBe(4);
    expect(snapshot.files.map((files) => [files.dir, files.name])).toEqual([
      ['intel-rapl:0', 'package-0\n'],
      ['intel-rapl:0:0', 'core\n'],
      ['intel-rapl:0:1', 'uncore\n'],
      ['intel-rapl:1', 'psys\n'],
    ]);
    const zoneDirs = new Set(snapshot.failures.map((failure) => basename(dirname(failure.file))));
    expect([...zoneDirs].sort()).toEqual(['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1', 'intel-rapl:1']);
    expect(snapshot.failures.every((failure) => failure.code === 'ENOENT')).toBe(true);
  });
});

describe('counter text', () => {
  test.each([
    ['26963529117\n', 26963529117],
    ['0\n', 0],
    ['  42 ', 42],
  ])('%j is %d µJ', (text, value) => {
    expect(parseMicroUnits(text)).toBe(value);
  });

  test.each(['', '\n', 'garbage', '-5', '1.5', '0x10', '99999999999999999999'])('%j is not a counter', (text) => {
    expect(parseMicroUnits(text)).toBeUndefined();
  });

  test('a zone holding garbage is reported by file and left out; the others stay', () => {
    const parsed = parseZones(
      [
        { dir: 'intel-rapl:0', name: 'package-0\n', energyUj: '26963529117\n', maxEnergyRangeUj: '262143328850\n' },
        { dir: 'intel-rapl:0:0', name: 'core\n', energyUj: '\u0000\u0000garbage', maxEnergyRangeUj: '262143328850\n' },
        { dir: 'intel-rapl:0:1', name: '\n', energyUj: '6564982278\n', maxEnergyRangeUj: '262143328850\n' },
      ],
      (dir, file) => `/sys/class/powercap/${dir}/${file}`,
    );
    expect(parsed.zones.map((zone) => zone.dir)).toEqual(['intel-rapl:0']);
    expect(parsed.problems).toEqual([
      { file: '/sys/class/powercap/intel-rapl:0:0/energy_uj', message: expect.stringMatching(/intel-rapl:0:0\/energy_uj holds ".*garbage", not a whole number/) },
      { file: '/sys/class/powercap/intel-rapl:0:1/name', message: '/sys/class/powercap/intel-rapl:0:1/name is empty' },
    ]);
  });
});

describe('series labels', () => {
  const zone = (dir: string, name: string, pkg: string): RaplZone => ({
    dir,
    zone: name,
    package: pkg,
    topLevel: !dir.slice('intel-rapl:'.length).includes(':'),
    energyUj: 0,
    maxEnergyRangeUj: 1,
  });

  test('zones keep their kernel names where they are unique', () => {
    const labels = seriesLabels([zone('intel-rapl:0', 'package-0', 'package-0'), zone('intel-rapl:0:0', 'core', 'package-0')]);
    expect([...labels.values()]).toEqual([
      { zone: 'package-0', package: 'package-0' },
      { zone: 'core', package: 'package-0' },
    ]);
  });

  test('two zones with the same names get their directories appended', () => {
    const labels = seriesLabels([zone('intel-rapl:0', 'package-0', 'package-0'), zone('intel-rapl:1', 'package-0', 'package-0')]);
    expect([...labels.values()]).toEqual([
      { zone: 'package-0@intel-rapl:0', package: 'package-0' },
      { zone: 'package-0@intel-rapl:1', package: 'package-0' },
    ]);
  });
});
