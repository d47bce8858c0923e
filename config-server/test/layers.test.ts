import { configDiff, deviceLayerAfter, globRegExp, mergeLayers, mergeOrder, selects } from '../src/layers';
import { reachedBy, rolloutPlanProblems } from '../src/rollout-plan';

describe('mergeLayers', () => {
  const fleet = {
    interval: 5,
    labels: { site: 'hq', rack: 'a' },
    metrics: { power_total_watts: true, host_load1: false },
    options: { shelly: { host: '10.0.0.9', timeout: { connect: 1, read: 2 } } },
    collectors: [{ type: 'shelly' }],
  };
  const group = {
    labels: { rack: 'b' },
    metrics: { host_load1: true },
    options: { shelly: { timeout: { read: 5 } } },
    collectors: [{ type: 'jetson' }, { type: 'shelly', name: 'plug' }],
  };
  const device = { interval: 1, metrics: { power_total_watts: false } };

  it('merges metrics and labels key by key, options at every depth, and replaces lists and scalars whole', () => {
    const { config, provenance } = mergeLayers([
      { layer: 'fleet', config: fleet },
      { layer: 'group:jetsons', config: group },
      { layer: 'device', config: device },
    ]);
    expect(config).toEqual({
      interval: 1,
      labels: { site: 'hq', rack: 'b' },
      metrics: { power_total_watts: false, host_load1: true },
      options: { shelly: { host: '10.0.0.9', timeout: { connect: 1, read: 5 } } },
      collectors: [{ type: 'jetson' }, { type: 'shelly', name: 'plug' }],
    });
    expect(provenance).toEqual({
      interval: 'device',
      'labels.site': 'fleet',
      'labels.rack': 'group:jetsons',
      'metrics.power_total_watts': 'device',
      'metrics.host_load1': 'group:jetsons',
      'options.shelly.host': 'fleet',
      'options.shelly.timeout.connect': 'fleet',
      'options.shelly.timeout.read': 'group:jetsons',
      collectors: 'group:jetsons',
    });
  });

  it('does not change the layers it merges', () => {
    const copy = structuredClone(fleet);
    const { config } = mergeLayers([{ layer: 'fleet', config: fleet }, { layer: 'device', config: device }]);
    (config.labels as Record<string, string>).site = 'changed';
    expect(fleet).toEqual(copy);
  });

  it('skips a layer that is not a map (a config stored as null before layers)', () => {
    expect(mergeLayers([{ layer: 'fleet', config: { interval: 2 } }, { layer: 'device', config: null as never }]).config).toEqual({ interval: 2 });
  });
});

describe('deviceLayerAfter: a whole config sent by a device becomes only its changes', () => {
  const effective = { device_type: 'host', interval: 5, metrics: { a: true, b: false }, labels: { site: 'hq' } };

  it('keeps only the entries that differ from the config the change was based on', () => {
    expect(deviceLayerAfter({}, effective, { ...effective, metrics: { a: true, b: true, c: false } })).toEqual({ metrics: { b: true, c: false } });
  });

  it('leaves entries the device layer already had, and the change equal to them, as they were', () => {
    expect(deviceLayerAfter({ interval: 5 }, effective, effective)).toEqual({ interval: 5 });
  });

  it('removes from the device layer what the config leaves out', () => {
    const layer = { labels: { site: 'hq' }, metrics: { b: false } };
    const { labels: _labels, ...withoutLabels } = effective;
    expect(deviceLayerAfter(layer, effective, { ...withoutLabels, metrics: { a: true } })).toEqual({ metrics: {} });
  });

  it('replaces a list whole when it differs', () => {
    const base = { collectors: [{ type: 'a' }] };
    expect(deviceLayerAfter({}, base, { collectors: [{ type: 'a' }, { type: 'b' }] })).toEqual({ collectors: [{ type: 'a' }, { type: 'b' }] });
  });
});

describe('selectors', () => {
  const device = { device_id: 'jetson-07', device_type: 'jetson_orin', tags: { site: 'roof', ring: 'canary' } };

  it('match by device type, device id glob and every tag', () => {
    expect(selects({}, device)).toBe(true);
    expect(selects({ device_type: 'jetson_orin', device_id: 'jetson-*', tags: { site: 'roof' } }, device)).toBe(true);
    expect(selects({ device_id: 'jetson-0?' }, device)).toBe(true);
    expect(selects({ device_id: 'jetson' }, device)).toBe(false);
    expect(selects({ device_type: 'raspberrypi' }, device)).toBe(false);
    expect(selects({ tags: { site: 'roof', ring: 'stable' } }, device)).toBe(false);
  });

  it('treat only * and ? as special in a glob', () => {
    expect(globRegExp('pi.0*').test('pi.07')).toBe(true);
    expect(globRegExp('pi.0*').test('pix07')).toBe(false);
  });

  it('merge groups by priority, equal priorities by name (the last name wins)', () => {
    const order = mergeOrder([
      { name: 'b', priority: 10 },
      { name: 'a', priority: 10 },
      { name: 'z', priority: -1 },
    ]).map((group) => group.name);
    expect(order).toEqual(['z', 'a', 'b']);
  });
});

describe('configDiff', () => {
  it('lists changes per key in provenance notation', () => {
    expect(configDiff({ interval: 1, metrics: { a: true }, options: { x: { y: 1 } } }, { interval: 2, metrics: { a: true, b: false }, options: { x: { y: 2 } } })).toEqual([
      { key: 'interval', before: 1, after: 2 },
      { key: 'metrics.b', after: false },
      { key: 'options.x.y', before: 1, after: 2 },
    ]);
  });
});

describe('rollout plans', () => {
  it('reach the rounded-up share of the affected devices at each step', () => {
    expect([0, 1, 2].map((index) => reachedBy([5, 25, 100], index, 1000))).toEqual([50, 250, 1000]);
    expect([0, 1].map((index) => reachedBy([34, 100], index, 3))).toEqual([2, 3]);
  });

  it('name the field of a malformed plan', () => {
    expect(rolloutPlanProblems({ steps: [50, 25], wait_s: -1, max_failed_percent: 200, when: 'now' })).toEqual([
      "rollout: unknown key 'when'",
      'rollout.steps: must rise and end at 100 (e.g. [5, 25, 100])',
      'rollout.wait_s: must be a number of seconds from 0 to 86400',
      'rollout.max_failed_percent: must be a number from 0 to 100',
    ]);
  });
});
