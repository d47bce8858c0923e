import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeMetricProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('has a metrics table that agrees with the manifest', () => {
    expect(readmeMetricProblems(readme, manifest)).toEqual([]);
  });

  it('documents every option with its default', () => {
    const properties = manifest.optionsSchema!.properties as Record<string, { default?: unknown }>;
    for (const [option, schema] of Object.entries(properties)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${option}\` |`));
      expect(row).toBeDefined();
      if (schema.default !== undefined) expect(row).toContain(`| \`${String(schema.default)}\` |`);
    }
  });
});
