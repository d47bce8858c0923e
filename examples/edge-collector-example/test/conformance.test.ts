import type { Sample } from '@edge-metrics/core/plugin';
import { checkConformance, type FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { capturedNetDev, procTree } from './helpers';

const ETH0_RECEIVED = 1030969582;

let tree: FixtureTree;
beforeEach(async () => {
  tree = await procTree(capturedNetDev('cubietruck-a20'));
});
afterEach(() => tree.dispose());

test("passes core's conformance kit, and reports every interface but lo with the captured counters", async () => {
  const { samples } = await checkConformance(plugin, { options: { proc_root: tree.path('proc') } });
  const eth0 = (name: string, counter: number): Sample => ({ name, value: counter, labels: { interface: 'eth0' } });
  expect(samples.filter((sample) => sample.labels?.interface === 'eth0')).toEqual([
    eth0('netdev_receive_bytes_total', ETH0_RECEIVED),
    eth0('netdev_receive_packets_total', 1053389),
    eth0('netdev_receive_errors_total', 0),
    eth0('netdev_receive_dropped_total', 0),
    eth0('netdev_transmit_bytes_total', 736679433),
    eth0('netdev_transmit_packets_total', 866925),
    eth0('netdev_transmit_errors_total', 0),
    eth0('netdev_transmit_dropped_total', 0),
  ]);
  expect(new Set(samples.map((sample) => sample.labels?.interface))).toEqual(new Set(['tunl0', 'eth0']));
  expect(samples).toHaveLength(16);
});
