import { checkConformance } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { MockShelly, gen1Routes, gen2Routes } from './helpers';

describe('the core conformance kit', () => {
  let mocks: MockShelly[] = [];
  afterEach(async () => {
    await Promise.all(mocks.map((mock) => mock.close()));
    mocks = [];
  });

  it('passes with a Gen3 three-phase meter reporting the device totals', async () => {
    const mock = await MockShelly.start({ routes: gen2Routes('gen3-3em-63') });
    mocks.push(mock);
    const { samples } = await checkConformance(plugin, { options: { host: mock.host, total: true } });
    expect(samples.map((sample) => sample.name)).toEqual(expect.arrayContaining(['shelly_up', 'power_total_watts', 'energy_joules_total']));
  });

  it('passes with a password-protected Gen1 plug', async () => {
    const mock = await MockShelly.start({ routes: gen1Routes(), auth: { scheme: 'basic', password: 'pw1' } });
    mocks.push(mock);
    const { samples, logs } = await checkConformance(plugin, { options: { host: mock.host, password: 'pw1' } });
    expect(samples).toContainEqual({ name: 'shelly_up', value: 1, labels: { plug: mock.host } });
    expect(logs).toEqual([]);
  });
});
