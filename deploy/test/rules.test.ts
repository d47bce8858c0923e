import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { vectorSelectors } from './promql';
import { ServedMetrics } from './served-metrics';

const prometheus = join(__dirname, '..', 'prometheus');
const load = (file: string) => parse(readFileSync(join(prometheus, file), 'utf8'));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules: Rule[] = ['alerts.yml', 'recording.yml'].flatMap((file) => load(file).groups.flatMap((group: { rules: Rule[] }) => group.rules));
const alerts = rules.filter((rule) => rule.alert !== undefined);

/** Per-device overrides of the thresholds, recorded by the operator's own rule file (see the top of alerts.yml). */
const OVERRIDES = ['edge:temperature_threshold_celsius:by_device', 'edge:power_budget_watts:by_device'];

test("every metric a rule queries is served by the exporter, recorded by a rule, or Prometheus' up", async () => {
  const served = await ServedMetrics.load();
  const known = new Set(['up', ...OVERRIDES, ...rules.flatMap((rule) => (rule.record ? [rule.record] : []))]);
  const problems = rules.flatMap((rule) =>
    vectorSelectors(rule.expr)
      .filter((selector) => !known.has(selector.name ?? ''))
      .flatMap((selector) => {
        const problem = served.problem(selector);
        return problem ? [`${rule.alert ?? rule.record}: ${problem}`] : [];
      }),
  );
  expect(problems).toEqual([]);
});

test('the alerts the issue asks for are all there, each with a severity, a summary and a description', () => {
  expect(alerts.map((alert) => alert.alert)).toEqual([
    'EdgeExporterDown',
    'EdgeCollectorFailing',
    'EdgeShellyDown',
    'EdgePowerSeriesGone',
    'EdgeSamplesStale',
    'EdgeConfigLocalFallback',
    'EdgeConfigSyncBacklog',
    'EdgeTemperatureHigh',
    'EdgePowerOverBudget',
    'EdgePowerDroppedToZero',
  ]);
  for (const alert of alerts) {
    expect({ alert: alert.alert, severity: alert.labels?.severity, annotations: Object.keys(alert.annotations ?? {}) }).toEqual({
      alert: alert.alert,
      severity: expect.stringMatching(/^(warning|critical)$/),
      annotations: ['summary', 'description'],
    });
  }
});

test('alerts.test.yml shows every alert firing at one time and quiet at another', () => {
  const tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> = load('alerts.test.yml').tests;
  const evaluations = tests.flatMap((unit) => unit.alert_rule_test ?? []);
  const coverage = alerts.map(({ alert }) => {
    const mine = evaluations.filter((evaluation) => evaluation.alertname === alert);
    return { alert, fires: mine.some((evaluation) => evaluation.exp_alerts.length > 0), quiet: mine.some((evaluation) => evaluation.exp_alerts.length === 0) };
  });
  expect(coverage).toEqual(alerts.map(({ alert }) => ({ alert, fires: true, quiet: true })));
});

test("prometheus.yml loads the rule files, and its jobs are the ones EdgeExporterDown watches", () => {
  const config = load('prometheus.yml');
  for (const file of config.rule_files) expect(existsSync(join(prometheus, file))).toBe(true);
  const watched = /up\{job=~"([^"]+)"\}/.exec(alerts.find((alert) => alert.alert === 'EdgeExporterDown')!.expr)![1]!;
  const jobs: string[] = config.scrape_configs.map((job: { job_name: string }) => job.job_name);
  expect(jobs.filter((job) => !new RegExp(`^(?:${watched})$`).test(job))).toEqual([]);
});
