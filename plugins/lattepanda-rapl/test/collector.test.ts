import { setTimeout as sleep } from 'node:timers/promises';
import type { Detection, Sample } from '@edge-metrics/core/plugin';
import { asUnprivileged, FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { machine, testContext } from './helpers';

const RANGE = 262143328850;
const powercap = (zone: string, file: string): string => `sys/class/powercap/${zone}/${file}`;

function value(samples: Sample[], name: string, labels?: Record<string, string>): number | undefined {
  return samples.find((sample) => sample.name === name && (!labels || JSON.stringify(sample.labels) === JSON.stringify(labels)))?.value;
}

/** Two collections with real time between them, and the bounds of that time as the collector saw it. */
async function twoReads(collect: () => Promise<Sample[]>, between: () => Promise<void>) {
  const firstStart = performance.now();
  const first = await collect();
  const firstEnd = performance.now();
  await between();
  await sleep(20);
  const secondStart = performance.now();
  const second = await collect();
  const secondEnd = performance.now();
  return { first, second, minSeconds: (secondStart - firstEnd) / 1000, maxSeconds: (secondEnd - firstStart) / 1000 };
}

let tree: FixtureTree;
let logs: string[];
afterEach(() => tree.dispose());
beforeEach(() => {
  logs = [];
});

const sysfsRoot = () => tree.path('sys');
const newCollector = () => plugin.create({ sysfs_root: sysfsRoot() }, testContext(logs));

/** The plugin's detect() on the fixture's sysfs, called as core calls it: with the options and a context. */
async function detect(): Promise<Detection> {
  if (!plugin.detect) throw new Error('the plugin exports no detect()');
  return plugin.detect({ sysfs_root: sysfsRoot() }, testContext(logs));
}

describe('an Intel laptop with package-0, core and uncore', () => {
  beforeEach(async () => {
    tree = await machine('laptop-package-core-uncore');
  });

  test('the first read gives the energy counters and no power yet', async () => {
    const samples = await newCollector().collect();
    expect(samples).toEqual([
      { name: 'rapl_energy_joules_total', value: 26963.529117, labels: { zone: 'package-0', package: 'package-0' } },
      { name: 'rapl_energy_joules_total', value: 7980.278886, labels: { zone: 'core', package: 'package-0' } },
      { name: 'rapl_energy_joules_total', value: 6564.982278, labels: { zone: 'uncore', package: 'package-0' } },
      { name: 'energy_joules_total', value: 0 },
    ]);
    expect(logs).toEqual([]);
  });

  test('the second read gives power as the energy delta over the real time between the reads', async () => {
    const collector = newCollector();
    const { second, minSeconds, maxSeconds } = await twoReads(
      async () => collector.collect(),
      async () => {
        await tree.write(powercap('intel-rapl:0', 'energy_uj'), `${26963529117 + 3_000_000}\n`);
        await tree.write(powercap('intel-rapl:0:0', 'energy_uj'), `${7980278886 + 1_500_000}\n`);
        await tree.write(powercap('intel-rapl:0:1', 'energy_uj'), `${6564982278 + 250_000}\n`);
      },
    );
    const packageWatts = value(second, 'rapl_power_watts', { zone: 'package-0', package: 'package-0' })!;
    expect(packageWatts).toBeGreaterThanOrEqual(3 / maxSeconds);
    expect(packageWatts).toBeLessThanOrEqual(3 / minSeconds);
    const coreWatts = value(second, 'rapl_power_watts', { zone: 'core', package: 'package-0' })!;
    expect(coreWatts / packageWatts).toBeCloseTo(0.5, 9);
    expect(value(second, 'power_total_watts')).toBe(packageWatts);
    expect(value(second, 'power_cpu_watts')).toBe(coreWatts);
    expect(value(second, 'energy_joules_total')).toBeCloseTo(3, 9);
    expect(value(second, 'rapl_energy_joules_total', { zone: 'package-0', package: 'package-0' })).toBeCloseTo(26966.529117, 6);
  });

  test('the counter stays monotonic across the wraparound at max_energy_range_uj', async () => {
    const collector = newCollector();
    await tree.write(powercap('intel-rapl:0', 'energy_uj'), `${RANGE - 1_000_000}\n`);
    const { first, second } = await twoReads(
      async () => collector.collect(),
      () => tree.write(powercap('intel-rapl:0', 'energy_uj'), '2000000\n'),
    );
    const labels = { zone: 'package-0', package: 'package-0' };
    const before = value(first, 'rapl_energy_joules_total', labels)!;
    expect(before).toBeCloseTo((RANGE - 1_000_000) / 1e6, 6);
    expect(value(second, 'rapl_energy_joules_total', labels)! - before).toBeCloseTo(3, 6);
    expect(value(second, 'rapl_power_watts', labels)).toBeGreaterThan(0);
    expect(value(second, 'energy_joules_total')).toBeCloseTo(3, 6);
  });

  test('energy_uj readable by root only: collect() throws naming the file and the fix, and logs nothing', async () => {
    for (const zone of ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1']) await tree.forbid(powercap(zone, 'energy_uj'));
    const collector = newCollector();
    for (let round = 0; round < 3; round++) {
      await expect(asUnprivileged(async () => collector.collect())).rejects.toThrow(
        /cannot read .*\/class\/powercap\/intel-rapl:0(:\d)?\/energy_uj: permission denied.*Run the exporter as root.*udev rule/,
      );
    }
    expect(logs).toEqual([]);
  });

  test('a package readable by root only: its subzones keep its name as their package label', async () => {
    await tree.forbid(powercap('intel-rapl:0', 'energy_uj'));
    const samples = await asUnprivileged(async () => newCollector().collect());
    expect(samples.filter((sample) => sample.name === 'rapl_energy_joules_total').map((sample) => sample.labels)).toEqual([
      { zone: 'core', package: 'package-0' },
      { zone: 'uncore', package: 'package-0' },
    ]);
  });

  test('one zone readable by root only: the others are collected and the fix is logged once', async () => {
    await tree.forbid(powercap('intel-rapl:0:1', 'energy_uj'));
    const collector = newCollector();
    for (let round = 0; round < 3; round++) {
      const samples = await asUnprivileged(async () => collector.collect());
      expect(samples.filter((sample) => sample.name === 'rapl_energy_joules_total').map((sample) => sample.labels?.zone)).toEqual(['package-0', 'core']);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^warn: \[rapl\] cannot read .*intel-rapl:0:1\/energy_uj: permission denied/);
  });

  test('a counter that vanishes between two reads is skipped with one warning', async () => {
    const collector = newCollector();
    await collector.collect();
    await tree.remove(powercap('intel-rapl:0:1', 'energy_uj'));
    const second = await collector.collect();
    const third = await collector.collect();
    for (const samples of [second, third]) {
      expect(samples.some((sample) => sample.labels?.zone === 'uncore')).toBe(false);
      expect(value(samples, 'rapl_power_watts', { zone: 'package-0', package: 'package-0' })).toBeGreaterThanOrEqual(0);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/intel-rapl:0:1\/energy_uj vanished while it was read/);
  });

  test('a counter holding garbage is skipped with one warning', async () => {
    const collector = newCollector();
    await tree.write(powercap('intel-rapl:0:0', 'energy_uj'), 'garbage\n');
    await collector.collect();
    const samples = await collector.collect();
    expect(samples.some((sample) => sample.labels?.zone === 'core')).toBe(false);
    // Without its core zone, the package stands for the CPU.
    expect(value(samples, 'power_cpu_watts')).toBe(value(samples, 'rapl_power_watts', { zone: 'package-0', package: 'package-0' }));
    expect(logs).toEqual([expect.stringMatching(/intel-rapl:0:0\/energy_uj holds "garbage", not a whole number of micro-joules; skipping this zone/)]);
  });

  test('every counter holding garbage: collect() throws the reasons', async () => {
    for (const zone of ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1']) await tree.write(powercap(zone, 'energy_uj'), '\n');
    await expect(newCollector().collect()).rejects.toThrow(/no RAPL zone under .*class\/powercap could be read: .*energy_uj holds ""/);
  });

  test('detect() finds the readable zones', async () => {
    await expect(detect()).resolves.toEqual({
      found: true,
      deviceType: 'intel_rapl',
      reason: 'RAPL zones readable: intel-rapl:0 (package-0), intel-rapl:0:0 (core), intel-rapl:0:1 (uncore)',
    });
  });

  test('detect() does not find zones that only root can read, and says why', async () => {
    for (const zone of ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1']) await tree.forbid(powercap(zone, 'energy_uj'));
    const detection = await asUnprivileged(detect);
    expect(detection.found).toBe(false);
    expect(detection.reason).toMatch(/RAPL zones exist under .* but none can be read: cannot read .*energy_uj: permission denied/);
  });
});

describe('a laptop with the platform zone psys (and an intel-rapl-mmio twin of its package)', () => {
  // The capture names the zones only; the test writes the counters it steps through.
  const start: Record<string, number> = {
    'intel-rapl:0': 5_000_000,
    'intel-rapl:0:0': 3_000_000,
    'intel-rapl:0:1': 1_000_000,
    'intel-rapl:1': 9_000_000,
    'intel-rapl-mmio:0': 5_000_000,
  };
  const step: Record<string, number> = { 'intel-rapl:0': 6, 'intel-rapl:0:0': 4, 'intel-rapl:0:1': 1, 'intel-rapl:1': 10, 'intel-rapl-mmio:0': 6 };

  beforeEach(async () => {
    tree = await machine('xps-7390-psys-mmio');
    for (const [zone, energy] of Object.entries(start)) {
      await tree.write(powercap(zone, 'energy_uj'), `${energy}\n`);
      await tree.write(powercap(zone, 'max_energy_range_uj'), `${RANGE}\n`);
    }
  });

  test('power_total_watts is psys, power_cpu_watts is core, and the mmio twin is not counted', async () => {
    const collector = newCollector();
    const { second } = await twoReads(
      async () => collector.collect(),
      async () => {
        for (const [zone, joules] of Object.entries(step)) await tree.write(powercap(zone, 'energy_uj'), `${start[zone]! + joules * 1e6}\n`);
      },
    );
    const zones = second.filter((sample) => sample.name === 'rapl_energy_joules_total').map((sample) => sample.labels);
    expect(zones).toEqual([
      { zone: 'package-0', package: 'package-0' },
      { zone: 'core', package: 'package-0' },
      { zone: 'uncore', package: 'package-0' },
      { zone: 'psys', package: 'psys' },
    ]);
    expect(value(second, 'power_total_watts')).toBe(value(second, 'rapl_power_watts', { zone: 'psys', package: 'psys' }));
    expect(value(second, 'power_cpu_watts')).toBe(value(second, 'rapl_power_watts', { zone: 'core', package: 'package-0' }));
    expect(value(second, 'energy_joules_total')).toBeCloseTo(10, 9);
  });
});

describe('a four-socket Xeon with core and dram subzones', () => {
  beforeEach(async () => {
    tree = await machine('xeon-4-socket-core-dram');
  });

  test('power_total_watts adds every package and its separate dram zone; power_cpu_watts adds the cores', async () => {
    const collector = newCollector();
    const { first, second } = await twoReads(
      async () => collector.collect(),
      async () => {
        for (const zone of ['0', '1', '2', '3'].flatMap((n) => [`intel-rapl:${n}`, `intel-rapl:${n}:0`, `intel-rapl:${n}:1`])) {
          const file = powercap(zone, 'energy_uj');
          await tree.write(file, `${Number(await tree.read(file)) + 1_000_000}\n`);
        }
      },
    );
    expect(first.filter((sample) => sample.name === 'rapl_energy_joules_total')).toHaveLength(12);
    const watts = second.filter((sample) => sample.name === 'rapl_power_watts');
    const sum = (zone: RegExp): number => watts.filter((sample) => zone.test(sample.labels!.zone!)).reduce((total, sample) => total + sample.value, 0);
    expect(value(second, 'power_total_watts')).toBeCloseTo(sum(/^(package-\d|dram)$/), 9);
    expect(value(second, 'power_cpu_watts')).toBeCloseTo(sum(/^core$/), 9);
    expect(value(second, 'energy_joules_total')).toBeCloseTo(8, 9);
  });
});

describe('a Xeon whose zone numbers are not its package numbers', () => {
  test('each zone is labelled with the name of the package it belongs to', async () => {
    tree = await machine('xeon-zone-index-not-package');
    const samples = await newCollector().collect();
    expect(value(samples, 'rapl_energy_joules_total', { zone: 'dram', package: 'package-3' })).toBe(60279.115781);
    expect(value(samples, 'rapl_energy_joules_total', { zone: 'dram', package: 'package-0' })).toBe(26530.978739);
  });
});

describe('a machine without RAPL', () => {
  beforeEach(async () => {
    tree = await machine();
  });

  test('collect() throws saying what is missing and how to load it', async () => {
    await expect(newCollector().collect()).rejects.toThrow(/no RAPL zone under .*\/sys\/class\/powercap .*modprobe intel_rapl_msr/);
  });

  test('it is no data, not a failure: core keeps the collector down without counting an error', async () => {
    await expect(newCollector().collect()).rejects.toMatchObject({ name: 'NoDataError' });
  });

  test('detect() does not find it', async () => {
    const detection = await detect();
    expect(detection).toEqual({ found: false, reason: expect.stringMatching(/^no RAPL zone under /) });
  });
});
