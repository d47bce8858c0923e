import { chmod } from 'node:fs/promises';
import type { Collector } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import { create } from '../src';
import { timing } from '../src/collector';
import { byName, context, fakeTegrastats, fixture, options, thrown, waitFor } from './helpers';

jest.setTimeout(30_000);

/** Where a test's fake tegrastats lives and leaves its traces. */
let tree: FixtureTree;
const running: Collector[] = [];
beforeEach(async () => {
  tree = await FixtureTree.create();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (collector) => collector.stop?.()));
  await tree.dispose();
});

function startCollector(given: Parameters<typeof options>[0], logs: string[] = []): Collector {
  const collector = create(options(given) as unknown as Record<string, unknown>, context(logs));
  running.push(collector);
  void collector.start?.();
  return collector;
}

/** Samples once `collect()` returns some. */
function samplesOf(collector: Collector): Promise<Record<string, number>> {
  return waitFor(async () => {
    const samples = await collector.collect();
    return samples.length > 0 ? byName(samples) : undefined;
  });
}

/** The message `collect()` throws once it throws one matching `pattern`. */
function errorOf(collector: Collector, pattern: RegExp): Promise<string> {
  return waitFor(() => {
    const error = thrown(() => collector.collect());
    return error && pattern.test(error.message) ? error.message : undefined;
  });
}

/** A script body that prints `line` every --interval ms once `gate` exists, recording its argv and pid. */
function printsLine(line: string): string {
  return `
fs.writeFileSync(${JSON.stringify(tree.path('argv.json'))}, JSON.stringify(process.argv.slice(2)));
fs.writeFileSync(${JSON.stringify(tree.path('pid'))}, String(process.pid));
setInterval(() => {
  if (fs.existsSync(${JSON.stringify(tree.path('gate'))})) process.stdout.write(${JSON.stringify(line)} + '\\n');
}, Number(process.argv[3]));`;
}

/** A script body that counts its runs in `runs` and behaves by run number. */
function countsRuns(body: string): string {
  const runs = JSON.stringify(tree.path('runs'));
  return `
const run = (fs.existsSync(${runs}) ? Number(fs.readFileSync(${runs}, 'utf8')) : 0) + 1;
fs.writeFileSync(${runs}, String(run));
${body}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the collector on a fake tegrastats printing recorded lines', () => {
  it('returns [] before the first line, then the samples of the latest line and the energy counter', async () => {
    const { line, expected } = await fixture('orin-agx-dla');
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, printsLine(line)), interval_ms: 50 });

    const argv = await waitFor(async () => JSON.parse(await tree.read('argv.json')) as string[]);
    expect(argv).toEqual(['--interval', '50']);
    expect(await collector.collect()).toEqual([]);

    await tree.write('gate', '');
    const { energy_joules_total: energy, ...values } = await samplesOf(collector);
    expect(values).toEqual(expected);
    expect(energy).toBeGreaterThanOrEqual(0);
  });

  it('integrates power_total_watts over the real time between lines into energy_joules_total', async () => {
    const { line, expected } = await fixture('tx2-l4t32-off-cores');
    const watts = expected.power_total_watts!;
    await tree.write('gate', '');
    const startedAt = Date.now();
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, printsLine(line)), interval_ms: 20 });

    const first = await waitFor(async () => byName(await collector.collect()).energy_joules_total || undefined);
    const later = await waitFor(async () => {
      const energy = byName(await collector.collect()).energy_joules_total!;
      return energy > first ? energy : undefined;
    });
    // The power is constant, so the energy is that power times the time between the first and the latest line.
    expect(later).toBeLessThanOrEqual((watts * (Date.now() - startedAt)) / 1000);
    expect(later / watts).toBeGreaterThan(0);
  });

  it('keeps the previous sample when tegrastats prints something else, and warns once', async () => {
    const { line, expected } = await fixture('nano-l4t32');
    const logs: string[] = [];
    const script = `
process.stdout.write('Warning: this is not tegrastats output\\n');
process.stdout.write('\\x00\\x01 garbage\\n');
process.stdout.write('Warning: this is not tegrastats output\\n');
process.stdout.write(${JSON.stringify(line)} + '\\n');
setInterval(() => process.stdout.write('Warning: this is not tegrastats output\\n'), 20);`;
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, script), interval_ms: 20 }, logs);

    const { energy_joules_total: _energy, ...values } = await samplesOf(collector);
    expect(values).toEqual(expected);
    const warnings = logs.filter((entry) => entry.includes('that is not tegrastats'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Warning: this is not tegrastats output');
  });
});

describe('the collector when tegrastats fails', () => {
  it('reports a missing tegrastats with the path and the fix', async () => {
    const logs: string[] = [];
    const collector = startCollector({ tegrastats_path: tree.path('absent/tegrastats') }, logs);
    const message = await errorOf(collector, /not found/);
    expect(message).toContain(`'${tree.path('absent/tegrastats')}' is not there`);
    expect(message).toContain('options.tegrastats_path');
    expect(message).toMatch(/restarting it in \d+\.\d s/);
    expect(logs.some((entry) => entry.startsWith('warn:') && entry.includes('tegrastats not found'))).toBe(true);
  });

  it('reports a tegrastats it may not run', async () => {
    const path = await fakeTegrastats(tree, '');
    await chmod(path, 0o644);
    const collector = startCollector({ tegrastats_path: path });
    expect(await errorOf(collector, /permission denied/)).toContain(`permission denied running tegrastats at '${path}': make it executable`);
  });

  it('reports the exit code and stderr of a tegrastats that crashes, and restarts it', async () => {
    const { line, expected } = await fixture('xavier-nx-l4t32');
    const script = countsRuns(
      `process.stdout.write(${JSON.stringify(line)} + '\\n');
if (run === 1) {
  process.stderr.write('NvRmMemInit failed\\n');
  setTimeout(() => process.exit(3), 50);
} else {
  setInterval(() => process.stdout.write(${JSON.stringify(line)} + '\\n'), 20);
}`,
    );
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, script), interval_ms: 20 });

    expect(await errorOf(collector, /exited/)).toMatch(/^tegrastats \('.*'\) exited with code 3: NvRmMemInit failed; restarting it in/);
    await waitFor(async () => ((await tree.read('runs')) === '2' ? true : undefined));
    const { energy_joules_total: _energy, ...values } = await samplesOf(collector);
    expect(values).toEqual(expected);
  });

  it('reports a tegrastats killed by a signal', async () => {
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, "process.kill(process.pid, 'SIGKILL');") });
    expect(await errorOf(collector, /signal/)).toMatch(/was killed by signal SIGKILL/);
  });

  it('does not serve a sample older than sample_stale_s, and restarts a silent tegrastats', async () => {
    const { line } = await fixture('orin-nx-jp5');
    const script = countsRuns(`if (run === 1) process.stdout.write(${JSON.stringify(line)} + '\\n');\nsetInterval(() => undefined, 1000);`);
    // 1 s: long enough that a busy machine's pause between two polls does not make the one line stale before it is seen.
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, script), interval_ms: 50, sample_stale_s: 1 });

    await samplesOf(collector);
    expect(await errorOf(collector, /no usable line/)).toMatch(/has printed no usable line for \d+\.\d s \(sample_stale_s is 1\); restarting it/);
    await waitFor(async () => ((await tree.read('runs')) === '2' ? true : undefined));
    // The restarted tegrastats is silent: the first one's line is too old to serve.
    expect(thrown(() => collector.collect())?.message).toMatch(/the latest tegrastats line is \d+\.\d s old|has printed no usable line/);
  });
});

describe('stopping the collector', () => {
  it('kills tegrastats and reaps it, even one that ignores SIGTERM; twice is fine; no restart follows', async () => {
    const { line } = await fixture('tx1-l4t32');
    const script = countsRuns(
      `process.on('SIGTERM', () => undefined);
${printsLine(line)}`,
    );
    await tree.write('gate', '');
    const collector = startCollector({ tegrastats_path: await fakeTegrastats(tree, script), interval_ms: 20 });
    await samplesOf(collector);
    const pid = Number(await tree.read('pid'));
    expect(isAlive(pid)).toBe(true);

    await collector.stop?.();
    expect(isAlive(pid)).toBe(false);
    await collector.stop?.();

    // Longer than the first restart delay (1 s): a stopped collector starts nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await tree.read('runs')).toBe('1');
  });
});

describe('timing', () => {
  it('runs tegrastats at the collector interval and calls a sample stale after five intervals, at least 5 s', () => {
    expect(timing(options({}), 1)).toEqual({ intervalMs: 1000, staleMs: 5000 });
    expect(timing(options({}), 2.5)).toEqual({ intervalMs: 2500, staleMs: 12_500 });
    expect(timing(options({ interval_ms: 200, sample_stale_s: 2 }), 1)).toEqual({ intervalMs: 200, staleMs: 2000 });
  });
});
