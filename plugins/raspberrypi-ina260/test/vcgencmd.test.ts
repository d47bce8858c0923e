import { readFile } from 'node:fs/promises';
import type { Collector, Sample } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import { createRaspberryPiIna260Plugin } from '../src/plugin';
import { THROTTLED_FLAGS } from '../src/vcgencmd-output';
import {
  buildSysfs,
  collectUntil,
  fixture,
  resolvedOptions,
  testContext,
  valueOf,
  writeFakeVcgencmd,
  type FakeCommand,
} from './helpers';

// vcgencmd runs as a real child process: a shell script standing in for it prints recorded real output.

jest.setTimeout(30_000);

let tree: FixtureTree;
const running: Collector[] = [];

beforeEach(async () => {
  tree = await FixtureTree.create();
  await buildSysfs(tree, { temp: fixture('thermal-pi2-35780', 'temp') });
});

afterEach(async () => {
  for (const collector of running.splice(0)) await collector.stop?.();
  await tree.dispose();
});

/** A collector without INA260s whose vcgencmd answers `commands`. */
async function startCollector(commands: Record<string, FakeCommand> | { path: string }, options: Record<string, unknown> = {}) {
  const vcgencmd = 'path' in commands ? commands.path : await writeFakeVcgencmd(tree, commands as Record<string, FakeCommand>);
  const context = testContext();
  const plugin = createRaspberryPiIna260Plugin(async () => {
    throw new Error('no I2C bus is opened when no INA260 is configured');
  });
  const collector = plugin.create(resolvedOptions({ sensors: [], sysfs_root: tree.root, vcgencmd_path: vcgencmd, ...options }), context);
  running.push(collector);
  await collector.start?.();
  return { collector, context, collect: async () => collector.collect() };
}

const has = (name: string) => (samples: Sample[]) => samples.some((sample) => sample.name === name);

describe('vcgencmd', () => {
  it('reports every documented get_throttled flag of a real capture as 0 or 1', async () => {
    const { collect } = await startCollector({
      get_throttled: { print: fixture('throttled-pi3-undervoltage-0x50005', 'output.txt') },
      pmic_read_adc: { print: fixture('pmic-pi5-zeus-load', 'output.txt') },
    });
    const samples = await collectUntil(collect, has('raspberrypi_throttled'));
    const flags = Object.fromEntries(
      samples.filter((sample) => sample.name === 'raspberrypi_throttled').map((sample) => [sample.labels!.flag, sample.value]),
    );
    // 0x50005: bits 0, 2, 16 and 18.
    expect(flags).toEqual({
      under_voltage_now: 1,
      arm_frequency_capped_now: 0,
      throttled_now: 1,
      soft_temperature_limit_now: 0,
      under_voltage_occurred: 1,
      arm_frequency_capped_occurred: 0,
      throttled_occurred: 1,
      soft_temperature_limit_occurred: 0,
    });
    expect(Object.keys(flags)).toHaveLength(THROTTLED_FLAGS.length);
  });

  it("reports a Raspberry Pi 5's PMIC rails, current times voltage of each", async () => {
    const { collect } = await startCollector({
      get_throttled: { print: fixture('throttled-0x0', 'output.txt') },
      pmic_read_adc: { print: fixture('pmic-pi5-zeus-load', 'output.txt') },
    });
    const samples = await collectUntil(collect, has('raspberrypi_pmic_rail_watts'));
    // VDD_CORE_A current(7)=6.22421000A and VDD_CORE_V volt(15)=0.86173300V.
    expect(valueOf(samples, 'raspberrypi_pmic_rail_watts', { rail: 'VDD_CORE' })).toBeCloseTo(6.22421 * 0.861733, 12);
    expect(samples.filter((sample) => sample.name === 'raspberrypi_pmic_rail_watts')).toHaveLength(12);
    expect(valueOf(samples, 'raspberrypi_pmic_rail_watts', { rail: 'EXT5V' })).toBeUndefined();
    expect(valueOf(samples, 'raspberrypi_temp_soc_celsius')).toBeCloseTo(35.78, 10);
  });

  it.each([
    ['prints no readings', ''],
    ['fails', '; exit 2'],
  ])('says once that a board whose pmic_read_adc %s has no PMIC rails, and stops asking', async (_, ending) => {
    const { collect, context } = await startCollector({
      get_throttled: { shell: `echo called >> '${tree.path('throttled-calls')}'; cat '${fixture('throttled-0x0', 'output.txt')}'` },
      pmic_read_adc: { shell: `echo called >> '${tree.path('pmic-calls')}'${ending}` },
    });
    // One refresh runs at a time: once the third has asked get_throttled, the first two have asked all they ask.
    await waitUntil(async () => {
      await collect();
      return (await tree.read('throttled-calls').catch(() => '')).trim().split('\n').length >= 3;
    });
    expect((await tree.read('pmic-calls')).trim().split('\n')).toEqual(['called']);
    expect(context.logs.filter((line) => line.includes('only a Raspberry Pi 5 has them'))).toHaveLength(1);
  });

  it('leaves the vcgencmd metrics out, saying so once, where vcgencmd is missing; the rest goes on', async () => {
    const { collect, context } = await startCollector({ path: tree.path('no-such-vcgencmd') });
    await collectUntil(collect, () => context.logs.some((line) => line.includes('vcgencmd not found')));
    const samples = await collect();
    expect(samples.map((sample) => sample.name)).toEqual(['raspberrypi_temp_soc_celsius']);
    expect(context.logs.filter((line) => line.includes('vcgencmd not found'))).toEqual([
      expect.stringContaining("vcgencmd not found at '" + tree.path('no-such-vcgencmd') + "' (option vcgencmd_path)"),
    ]);
  });

  it('kills a vcgencmd that does not answer within vcgencmd_timeout_ms and reports the other command', async () => {
    const { collect, context } = await startCollector(
      {
        get_throttled: { shell: 'exec sleep 30' },
        pmic_read_adc: { print: fixture('pmic-pi5-jfikar', 'output.txt') },
      },
      { vcgencmd_timeout_ms: 300 },
    );
    const samples = await collectUntil(collect, has('raspberrypi_pmic_rail_watts'));
    expect(samples.some((sample) => sample.name === 'raspberrypi_throttled')).toBe(false);
    expect(context.logs).toContainEqual(expect.stringContaining('get_throttled\' did not answer within 300 ms (option vcgencmd_timeout_ms)'));
  });

  it('does not make collection wait for a slow vcgencmd, and stop() ends it', async () => {
    const pidFile = tree.path('pid');
    const { collector, collect } = await startCollector(
      { get_throttled: { shell: `echo $$ > '${pidFile}'; exec sleep 30` } },
      { vcgencmd_timeout_ms: 60_000 },
    );
    const samples = await collect();
    expect(samples.map((sample) => sample.name)).toEqual(['raspberrypi_temp_soc_celsius']);
    const pid = Number(await collectUntilFile(pidFile));
    await collector.stop?.();
    await waitUntil(() => !isRunning(pid));
    expect(isRunning(pid)).toBe(false);
  });

  it('names the video group when vcgencmd may not reach the firmware', async () => {
    // What vcgencmd prints for a user outside the video group (OctoPrint/OctoPrint-PiSupport#6).
    const { collect, context } = await startCollector({
      get_throttled: { shell: 'echo "VCHI initialization failed"; exit 255' },
    });
    await collectUntil(collect, () => context.logs.some((line) => line.includes('VCHI')));
    expect(context.logs).toContainEqual(expect.stringContaining(
      "get_throttled' exited with status 255 (\"VCHI initialization failed\"): vcgencmd needs /dev/vcio (or /dev/vchiq), so add the exporter's user to the video group",
    ));
  });

  it('drops a result that can no longer be refreshed instead of repeating it', async () => {
    const { collect, context } = await startCollector({
      get_throttled: { shell: `[ -e '${tree.path('broken')}' ] && exit 1; cat '${fixture('throttled-0x0', 'output.txt')}'` },
    });
    await collectUntil(collect, has('raspberrypi_throttled'));
    await tree.write('broken', '');
    const samples = await collectUntil(collect, (result) => !has('raspberrypi_throttled')(result));
    expect(has('raspberrypi_throttled')(samples)).toBe(false);
    expect(context.logs).toContainEqual(expect.stringContaining("get_throttled' exited with status 1"));
  });
});

async function collectUntilFile(path: string): Promise<string> {
  await waitUntil(async () => (await readFile(path, 'utf8').catch(() => '')).trim() !== '');
  return (await readFile(path, 'utf8')).trim();
}

/** Polls `condition` for at most ten seconds (generous: shared machines are slow). */
async function waitUntil(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
