import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vectorSelectors, type Selector } from './promql';
import { ServedMetrics } from './served-metrics';

const grafana = join(__dirname, '..', 'grafana');
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
/** Prometheus adds `up` to every target it scrapes; the exporter does not serve it. */
const PROMETHEUS_SERIES = new Set(['up']);
/** Grafana's own variables that an expression may use. */
const GRAFANA_VARIABLES = new Set(['__rate_interval', '__interval', '__range']);
const PANEL_TYPES = new Set(['stat', 'timeseries', 'table', 'state-timeline']);

interface Target {
  refId: string;
  expr: string;
  datasource: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: unknown;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  datasource?: unknown;
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  id: null;
  tags: string[];
  time: { from: string; to: string };
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboards = ['fleet.json', 'device.json'].map((file) => ({
  file,
  dashboard: JSON.parse(readFileSync(join(grafana, file), 'utf8')) as Dashboard,
}));

/** Every query of a dashboard: each panel target, and each query variable's label_values() selector. */
function queries(dashboard: Dashboard): Array<{ where: string; expr: string }> {
  const fromPanels = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: `panel '${panel.title}' ${target.refId}`, expr: target.expr })));
  const fromVariables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ where: `variable ${variable.name}`, expr: /^label_values\((.+), *\w+\)$/.exec(variable.definition ?? '')?.[1] ?? `unreadable: ${variable.definition}` }));
  return [...fromPanels, ...fromVariables];
}

let served: ServedMetrics;
beforeAll(async () => {
  served = await ServedMetrics.load();
});

describe.each(dashboards)('$file', ({ dashboard }) => {
  test('is an importable dashboard: uid, title, schema version, time range, no instance id', () => {
    expect(dashboard).toMatchObject({ id: null, tags: ['edge-metrics'], time: { to: 'now' } });
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toMatch(/^Edge Metrics: /);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
  });

  test('has the DS_PROMETHEUS datasource variable and the device_type and hostname variables', () => {
    const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
    expect([...variables.keys()]).toEqual(['DS_PROMETHEUS', 'device_type', 'hostname']);
    expect(variables.get('DS_PROMETHEUS')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['device_type', 'hostname']) {
      const variable = variables.get(name)!;
      expect(variable).toMatchObject({ type: 'query', datasource: DATASOURCE });
      expect(variable.definition).toMatch(new RegExp(`^label_values\\(.+, *${name}\\)$`));
      expect(variable.query).toMatchObject({ query: variable.definition });
    }
  });

  test('every panel has a unique id, a known type, the DS_PROMETHEUS datasource and a place on the grid', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect({ title: panel.title, type: PANEL_TYPES.has(panel.type), datasource: panel.datasource }).toEqual({ title: panel.title, type: true, datasource: DATASOURCE });
      const { x, y, w, h } = panel.gridPos;
      expect([x, y, w, h].every(Number.isInteger) && x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24).toBe(true);
      expect(panel.targets.length).toBeGreaterThan(0);
      const refIds = panel.targets.map((target) => target.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of panel.targets) expect(target).toMatchObject({ datasource: DATASOURCE, expr: expect.stringMatching(/\S/) });
    }
  });

  test('no two panels overlap', () => {
    const overlapping = dashboard.panels.flatMap((a, i) =>
      dashboard.panels.slice(i + 1).filter((b) => {
        const [p, q] = [a.gridPos, b.gridPos];
        return p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
      }).map((b) => `${a.title} / ${b.title}`),
    );
    expect(overlapping).toEqual([]);
  });

  test('every metric a query asks for is one the exporter serves (from the manifests and a running exporter)', () => {
    const problems = queries(dashboard).flatMap(({ where, expr }) =>
      vectorSelectors(expr)
        .filter((selector) => !PROMETHEUS_SERIES.has(selector.name ?? ''))
        .flatMap((selector) => {
          const problem = served.problem(selector);
          return problem ? [`${where}: ${problem}`] : [];
        }),
    );
    expect(problems).toEqual([]);
  });

  test("every panel query follows the dashboard's device_type and hostname variables", () => {
    const follows = (selector: Selector, label: string): boolean =>
      selector.matchers.some((matcher) => matcher.label === label && matcher.value === `$${label}`);
    const ignoring = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) =>
        vectorSelectors(target.expr)
          .filter((selector) => !PROMETHEUS_SERIES.has(selector.name ?? ''))
          .filter((selector) => !follows(selector, 'device_type') || !follows(selector, 'hostname'))
          .map((selector) => `panel '${panel.title}' ${target.refId}: ${selector.name ?? '{__name__=~...}'}`),
      ),
    );
    expect(ignoring).toEqual([]);
  });

  test('every variable an expression uses is defined', () => {
    const defined = new Set([...dashboard.templating.list.map((variable) => variable.name), ...GRAFANA_VARIABLES]);
    const undefinedVariables = queries(dashboard).flatMap(({ where, expr }) =>
      [...expr.matchAll(/\$\{?(\w+)\}?/g)].map((match) => match[1]!).filter((name) => !/^\d+$/.test(name) && !defined.has(name)).map((name) => `${where}: $${name}`),
    );
    expect(undefinedVariables).toEqual([]);
  });
});

test('the two dashboards have different uids', () => {
  expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(2);
});
