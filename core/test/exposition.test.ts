import { ExpositionCache, negotiateEncoding, negotiateFormat, render, type ExpositionFamily } from '../src/metrics/exposition';

const families: ExpositionFamily[] = [
  {
    name: 'power_total_watts',
    help: 'Whole-device power\nfrom the best sensor',
    type: 'gauge',
    samples: [{ name: 'power_total_watts', labels: [['device_type', 'jetson_orin'], ['hostname', 'edge-01']], value: 7.25 }],
  },
  {
    name: 'energy_joules_total',
    help: 'Energy used',
    type: 'counter',
    samples: [{ name: 'energy_joules_total', labels: [['plug', 'a "quoted"\\name\nline']], value: 12 }],
  },
  { name: 'empty_family', help: 'nothing reported', type: 'gauge', samples: [] },
  { name: 'odd_values', help: 'non-finite', type: 'gauge', samples: [{ name: 'odd_values', labels: [], value: Number.NaN }] },
];

describe('exposition', () => {
  test('Prometheus text format: HELP and TYPE per family, escaped label values and help, empty families left out', () => {
    expect(render(families, 'prometheus')).toBe(
      [
        '# HELP power_total_watts Whole-device power\\nfrom the best sensor',
        '# TYPE power_total_watts gauge',
        'power_total_watts{device_type="jetson_orin",hostname="edge-01"} 7.25',
        '# HELP energy_joules_total Energy used',
        '# TYPE energy_joules_total counter',
        'energy_joules_total{plug="a \\"quoted\\"\\\\name\\nline"} 12',
        '# HELP odd_values non-finite',
        '# TYPE odd_values gauge',
        'odd_values NaN',
        '',
      ].join('\n'),
    );
  });

  test('OpenMetrics: counter families named without _total, samples keep it, # EOF at the end', () => {
    const text = render(families, 'openmetrics');
    expect(text).toContain('# TYPE energy_joules counter\nenergy_joules_total{');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  test.each([
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    ['text/plain;version=0.0.4', 'prometheus'],
    [undefined, 'prometheus'],
  ] as const)('Accept %s → %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });

  test.each([
    ['gzip', 'gzip'],
    ['deflate, GZIP;q=0.5', 'gzip'],
    ['*', 'gzip'],
    ['gzip;q=0, identity', 'identity'],
    ['deflate', 'identity'],
    [undefined, 'identity'],
  ] as const)('Accept-Encoding %s → %s', (acceptEncoding, encoding) => {
    expect(negotiateEncoding(acceptEncoding)).toBe(encoding);
  });

  test('the cache renders each format once per update', async () => {
    const cache = new ExpositionCache();
    expect(await cache.text('prometheus')).toBe('');
    cache.update(families.slice(0, 1));
    const first = await cache.bytes('prometheus');
    expect(await cache.bytes('prometheus')).toBe(first);
    cache.update(families.slice(1, 2));
    expect(await cache.text('prometheus')).toContain('energy_joules_total');
    expect(await cache.text('prometheus')).not.toContain('power_total_watts');
  });

  test('late families are gathered once, on the first read after an update, and not at all without one', async () => {
    let gathered = 0;
    const late = (value: number) => async () => {
      gathered++;
      return [{ name: 'late_value', help: 'late', type: 'gauge' as const, samples: [{ name: 'late_value', labels: [], value }] }];
    };
    const cache = new ExpositionCache();
    cache.update(families.slice(0, 1), late(1));
    cache.update(families.slice(0, 1), late(2));
    expect(gathered).toBe(0);
    const reads = [cache.text('prometheus'), cache.text('openmetrics'), cache.bytes('prometheus', 'gzip')];
    // An update while those reads wait: they still answer with the cycle they started on.
    cache.update(families.slice(1, 2), late(3));
    const [prometheus, openMetrics] = await Promise.all(reads);
    expect(gathered).toBe(1);
    expect(prometheus).toMatch(/^# HELP power_total_watts .*\npower_total_watts\{.*\n# HELP late_value late\n# TYPE late_value gauge\nlate_value 2\n$/s);
    expect(openMetrics).toContain('late_value 2\n# EOF\n');
    expect(await cache.text('prometheus')).toContain('late_value 3\n');
    expect(gathered).toBe(2);
  });
});
