import { describeReadFailure, listSysfsDir, readSysfsFile, type ReadFailure } from '../src/sysfs';
import { asUnprivileged, FixtureTree } from '../src/testing';

const ADVICE = { permission: 'skipping it. Run the exporter as root', vanished: 'the sensor was unplugged', other: 'the sensor did not answer' };

let tree: FixtureTree;
beforeEach(async () => {
  tree = await FixtureTree.create();
  await tree.write('class/hwmon/hwmon0/in0_input', '5000\n');
  await tree.write('class/hwmon/hwmon0/power1_input', '1\n');
  await tree.forbid('class/hwmon/hwmon0/power1_input');
});
afterEach(() => tree.dispose());

test('reads what it can and reports each file it cannot, with its errno code, without throwing', async () => {
  const failures: ReadFailure[] = [];
  const [readable, forbidden, missing] = await asUnprivileged(() =>
    Promise.all(['in0_input', 'power1_input', 'curr1_input'].map((file) => readSysfsFile(tree.path(`class/hwmon/hwmon0/${file}`), failures))),
  );
  expect([readable, forbidden, missing]).toEqual(['5000\n', undefined, undefined]);
  expect(failures).toEqual([
    { file: tree.path('class/hwmon/hwmon0/power1_input'), code: 'EACCES' },
    { file: tree.path('class/hwmon/hwmon0/curr1_input'), code: 'ENOENT' },
  ]);
});

test('lists a directory, and nothing where the driver made none', async () => {
  expect((await listSysfsDir(tree.path('class/hwmon/hwmon0'))).sort()).toEqual(['in0_input', 'power1_input']);
  expect(await listSysfsDir(tree.path('class/powercap'))).toEqual([]);
  expect(await listSysfsDir(tree.path('class/hwmon/hwmon0/in0_input'))).toEqual([]);
});

test("each failure becomes one sentence with the plugin's advice", () => {
  expect(describeReadFailure({ file: '/sys/a', code: 'EACCES' }, ADVICE)).toBe('cannot read /sys/a: permission denied; skipping it. Run the exporter as root');
  expect(describeReadFailure({ file: '/sys/a', code: 'EPERM' }, ADVICE)).toBe('cannot read /sys/a: permission denied; skipping it. Run the exporter as root');
  expect(describeReadFailure({ file: '/sys/a', code: 'ENOENT' }, ADVICE)).toBe('/sys/a vanished while it was read (the sensor was unplugged); skipping it');
  expect(describeReadFailure({ file: '/sys/a', code: 'ENODATA' }, ADVICE)).toBe('cannot read /sys/a: ENODATA (the sensor did not answer); skipping it');
  expect(describeReadFailure({ file: '/sys/a', code: 'EIO' }, { ...ADVICE, other: undefined })).toBe('cannot read /sys/a: EIO; skipping it');
});
