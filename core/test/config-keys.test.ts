import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CONFIG_KEYS, type KeyRule } from '../src/config/keys';
import { configSchema, configSchemaJson, parseConfig } from '../src/config/schema';

const CORE = join(__dirname, '..');

/** The rows of core/README.md's key reference: the table under `## Configuration` whose header starts `| key | default |`. */
function readmeKeyRows(): Map<string, { default: string; applies: string }> {
  const readme = readFileSync(join(CORE, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration') + 1));
  const table = section.slice(section.indexOf('| key | default |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  return new Map(
    rows.map((row) => {
      const [key = '', defaultCell = '', applies = ''] = row.split('|').slice(1).map((cell) => cell.trim());
      return [key.replace(/`/g, ''), { default: defaultCell, applies }];
    }),
  );
}

/** A default as the README writes it: `` `value` ``, "the hostname", or nothing. */
function readmeDefault(value: unknown): string {
  if (value === undefined) return '';
  if (value === hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)) return 'the hostname';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function readmeApplies(rule: KeyRule): string {
  return rule.deviceOnly ? `${rule.applies}, device only` : rule.applies;
}

test('the key table has a row for every key of the schema, and no other', () => {
  expect(Object.keys(CONFIG_KEYS).sort()).toEqual(Object.keys(configSchema.properties as object).sort());
});

test("core/README.md's key reference lists every key with its default and how a change applies, as the code has them", () => {
  const rows = readmeKeyRows();
  expect([...rows.keys()].sort()).toEqual(Object.keys(CONFIG_KEYS).sort());
  const defaults = parseConfig({}, 'built-in') as unknown as Record<string, unknown>;
  for (const [key, rule] of Object.entries(CONFIG_KEYS)) {
    expect({ key, ...rows.get(key) }).toEqual({ key, default: readmeDefault(defaults[key]), applies: readmeApplies(rule) });
  }
});

test('schemas/config.schema.json is the schema of src/config/schema.ts (npm run generate:schema writes it)', () => {
  expect(readFileSync(join(CORE, 'schemas', 'config.schema.json'), 'utf8')).toBe(configSchemaJson());
});
