import { checkConformance, type FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { machine } from './helpers';

let tree: FixtureTree;
beforeEach(async () => {
  tree = await machine('laptop-package-core-uncore');
});
afterEach(() => tree.dispose());

test('passes the conformance kit on an Intel laptop with package-0, core and uncore', async () => {
  const { samples } = await checkConformance(plugin, { options: { sysfs_root: tree.path('sys') } });
  const core = samples.find((sample) => sample.name === 'rapl_energy_joules_total' && sample.labels?.zone === 'core' && sample.labels.package === 'package-0');
  expect(core?.value).toBe(7980.278886);
});
