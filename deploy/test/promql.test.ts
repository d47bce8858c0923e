import { vectorSelectors } from './promql';

describe('vectorSelectors', () => {
  test.each([
    ['power_total_watts', [{ name: 'power_total_watts', matchers: [] }]],
    [
      'sum by (hostname) (increase(energy_joules_total{hostname=~"$hostname"}[$__rate_interval])) / 3600000',
      [{ name: 'energy_joules_total', matchers: [{ label: 'hostname', op: '=~', value: '$hostname' }] }],
    ],
    [
      'label_replace({__name__=~"jetson_power_.+_watts", hostname="a"}, "rail", "$1", "__name__", "jetson_power_(.+)_watts")',
      [{ matchers: [{ label: '__name__', op: '=~', value: 'jetson_power_.+_watts' }, { label: 'hostname', op: '=', value: 'a' }] }],
    ],
    [
      'a > on(family, hostname) group_left() b or (c unless on(x) d) > ignoring(y) group_right e',
      ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, matchers: [] })),
    ],
    ['count(up{job=~"edge-power.*"} == 0) or vector(0)', [{ name: 'up', matchers: [{ label: 'job', op: '=~', value: 'edge-power.*' }] }]],
    ['power_total_watts offset 30m and changes(power_total_watts[30m]) == 0', [{ name: 'power_total_watts', matchers: [] }, { name: 'power_total_watts', matchers: [] }]],
    ['max(x) without (core) * 1e6', [{ name: 'x', matchers: [] }]],
  ])('%s', (expr, selectors) => {
    expect(vectorSelectors(expr)).toEqual(selectors);
  });

  test('what is not PromQL is an error quoting it', () => {
    expect(() => vectorSelectors('sum(x) # y')).toThrow('cannot read PromQL at "# y" in "sum(x) # y"');
  });
});
