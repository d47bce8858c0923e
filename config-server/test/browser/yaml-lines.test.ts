// Where the console shows a problem of the YAML an operator edits: the line of the key the server's sentence names.
import { diff, layerOf } from '../../ui/src/key-paths';
import { keyLines, problemLine } from '../../ui/src/yaml-lines';

const YAML = `# a device layer
device_type: host
collectors:
  - type: shelly
    colour: red
  - type: host
metrics:
  host_load1: yes
"quoted key": 1
plugin_dirs:
- /opt/a
- /opt/b
options:
  jetson:
    timeout: {read: 2}
`;

test.each([
  ["unknown key 'quoted key'", 9],
  ['device_type: must match ^[a-z][a-z0-9_]*$', 2],
  ["collectors[0]: unknown key 'colour'", 5],
  ['collectors[1].type: no such collector', 6],
  ['metrics.host_load1: must be a boolean', 8],
  ['plugin_dirs[1]: must be an absolute path', 12],
  // A key inside a flow mapping is shown at the line of the nearest key above it.
  ['options.jetson.timeout.read: must be > 0', 15],
  ['the request body is not valid YAML: line 4, column 7: bad indentation', 4],
])('%s → line %d', (problem, line) => {
  expect(problemLine(problem, keyLines(YAML))).toBe(line);
});

test('a problem that names no key of the text has no line', () => {
  expect(problemLine('the config is empty (null)', keyLines(YAML))).toBeNull();
  expect(problemLine('labels.site: must be a string', keyLines(YAML))).toBeNull();
});

test('a version diff lists the key paths added, removed and changed', () => {
  expect(diff({ interval: 5, metrics: { a: true, b: true }, collectors: [{ type: 'x' }] }, { interval: 2, metrics: { a: true, c: false }, collectors: [{ type: 'y' }] })).toEqual([
    { key: 'collectors[0].type', before: 'x', after: 'y' },
    { key: 'interval', before: 5, after: 2 },
    { key: 'metrics.b', before: true },
    { key: 'metrics.c', after: false },
  ]);
});

test('each key of the effective config shows the layer that set it or the key above it', () => {
  const provenance = { interval: 'fleet', 'metrics.a': 'device', collectors: 'group:jetsons', 'options.jetson.timeout.read': 'fleet' };
  expect(layerOf('metrics.a', provenance)).toBe('device');
  expect(layerOf('collectors[0].type', provenance)).toBe('group:jetsons');
  expect(layerOf('options.jetson.timeout.read', provenance)).toBe('fleet');
  expect(layerOf('labels.x', provenance)).toBe('—');
});
