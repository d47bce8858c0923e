import { createLogger, resolveOptions, type Collector, type Sample } from '@edge-metrics/core/plugin';
import type { FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { capturedNetDev, procTree } from './helpers';

/** A Cubietruck's /proc/net/dev: lo, tunl0 and eth0. */
const CUBIETRUCK = capturedNetDev('cubietruck-a20');
const WIRELESS = capturedNetDev('proc-net-wireless');
const ETH0_RECEIVED = 1030969582;

let tree: FixtureTree;
let logs: string[];
beforeEach(async () => {
  tree = await procTree(CUBIETRUCK);
  logs = [];
});
afterEach(() => tree.dispose());

/** A collector as core creates one: the options completed by the schema's defaults. */
function collector(options: Record<string, unknown> = {}): Collector {
  const resolved = resolveOptions(plugin.manifest, { proc_root: tree.path('proc'), ...options }, 'options');
  const logger = createLogger('debug', (line) => logs.push(line), 'netdev');
  return plugin.create(resolved, { deviceType: 'netdev', collectorName: 'netdev', interval: 1, logger });
}

const collect = async (from: Collector): Promise<Sample[]> => from.collect();
const value = (samples: Sample[], name: string, iface: string): number | undefined =>
  samples.find((sample) => sample.name === name && sample.labels?.interface === iface)?.value;

test('include and exclude choose the interfaces by pattern', async () => {
  const only = await collect(collector({ include: ['eth*', 'lo'], exclude: [] }));
  expect(new Set(only.map((sample) => sample.labels?.interface))).toEqual(new Set(['eth0', 'lo']));
  const none = collector({ exclude: ['*'] });
  expect(await collect(none)).toEqual([]);
  expect(await collect(none)).toEqual([]);
  expect(logs).toEqual(['warn: [netdev] no interface of ' + tree.path('proc/net/dev') + ' passes options.include and options.exclude (interfaces: lo, tunl0, eth0)']);
});

test('the counters follow the kernel, and never go backwards when an interface is reset', async () => {
  const netdev = collector();
  expect(value(await collect(netdev), 'netdev_receive_bytes_total', 'eth0')).toBe(ETH0_RECEIVED);
  // The same capture after eth0 received 1000 bytes more, then after its driver was reloaded and received 4000.
  await tree.write('proc/net/dev', CUBIETRUCK.replace(String(ETH0_RECEIVED), String(ETH0_RECEIVED + 1000)));
  expect(value(await collect(netdev), 'netdev_receive_bytes_total', 'eth0')).toBe(ETH0_RECEIVED + 1000);
  await tree.write('proc/net/dev', CUBIETRUCK.replace(String(ETH0_RECEIVED), '4000'));
  expect(value(await collect(netdev), 'netdev_receive_bytes_total', 'eth0')).toBe(ETH0_RECEIVED + 1000 + 4000);
});

test('with counter_bits 32 a counter that drops has wrapped at 2^32', async () => {
  const netdev = collector({ counter_bits: 32 });
  await collect(netdev);
  // The same capture after eth0's 32-bit counter of received bytes passed 2^32 and stood at 4000.
  await tree.write('proc/net/dev', CUBIETRUCK.replace(String(ETH0_RECEIVED), '4000'));
  expect(value(await collect(netdev), 'netdev_receive_bytes_total', 'eth0')).toBe(2 ** 32 + 4000);
});

test('an interface that goes away takes its series with it', async () => {
  const netdev = collector();
  expect(value(await collect(netdev), 'netdev_receive_bytes_total', 'tunl0')).toBe(0);
  await tree.write('proc/net/dev', CUBIETRUCK.split('\n').filter((line) => !line.includes('tunl0:')).join('\n'));
  const samples = await collect(netdev);
  expect(samples.filter((sample) => sample.labels?.interface === 'tunl0')).toEqual([]);
  expect(value(samples, 'netdev_receive_bytes_total', 'eth0')).toBe(ETH0_RECEIVED);
});

test('a missing file is the source being down: collect() throws what to fix, and recovers when it is back', async () => {
  const netdev = collector({ proc_root: tree.path('elsewhere') });
  await expect(collect(netdev)).rejects.toThrow(
    `${tree.path('elsewhere/net/dev')} does not exist: procfs is not mounted at '${tree.path('elsewhere')}'; set options.proc_root to where it is`,
  );
  await tree.write('elsewhere/net/dev', CUBIETRUCK);
  expect(value(await collect(netdev), 'netdev_receive_bytes_total', 'eth0')).toBe(ETH0_RECEIVED);
});

test('a file that is not /proc/net/dev is an error naming it', async () => {
  await tree.write('proc/net/dev', WIRELESS);
  await expect(collect(collector())).rejects.toThrow(`${tree.path('proc/net/dev')} is not in the /proc/net/dev format`);
});

test('a line that cannot be read is skipped with one warning, not one per collection', async () => {
  await tree.write('proc/net/dev', `${CUBIETRUCK}  eth1: 12 34\n`);
  const netdev = collector();
  await collect(netdev);
  const samples = await collect(netdev);
  expect(value(samples, 'netdev_receive_bytes_total', 'eth0')).toBe(ETH0_RECEIVED);
  expect(logs).toEqual([`warn: [netdev] ${tree.path('proc/net/dev')} line 6: interface eth1 does not have 16 whole numbers: "  eth1: 12 34"; skipping it`]);
});
