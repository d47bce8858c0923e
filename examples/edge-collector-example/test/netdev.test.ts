import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNetDev } from '../src/netdev';
import { FIXTURES as fixtures } from './helpers';
const read = (relative: string): string => readFileSync(join(fixtures, relative), 'utf8');
const cases = readdirSync(fixtures, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('parseNetDev on captured /proc/net/dev files (sources in fixtures/README.md)', () => {
  test.each(cases)('%s', (name) => {
    const expected = JSON.parse(read(`${name}/expected.json`));
    const parse = () => parseNetDev(read(`${name}/dev`), `${name}/dev`);
    if ('error' in expected) expect(parse).toThrow(new Error(expected.error));
    else expect(parse()).toEqual(expected);
  });
});

describe('parseNetDev on bad input', () => {
  test('a line that is not an interface with its counters is skipped and named; the others are read', () => {
    const text = `${read('cubietruck-a20/dev')}  eth1: 12 34\nno colon here\n`;
    const table = parseNetDev(text, '/proc/net/dev');
    expect(table.interfaces.map((counters) => counters.interface)).toEqual(['lo', 'tunl0', 'eth0']);
    expect(table.skipped).toEqual([
      { line: 6, problem: '/proc/net/dev line 6: interface eth1 does not have 16 whole numbers: "  eth1: 12 34"' },
      { line: 7, problem: '/proc/net/dev line 7: no interface name before a colon: "no colon here"' },
    ]);
  });

  test('an empty file is an error that names it', () => {
    expect(() => parseNetDev('', '/proc/net/dev')).toThrow(
      `/proc/net/dev is not in the /proc/net/dev format: its second line should be the column header ' face |bytes packets ...|bytes packets ...', not ""`,
    );
  });
});
