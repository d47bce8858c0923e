import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { definePlugin, NoDataError, isNoData } from '../src/plugin-api';

/** Type-checks `source` (a plugin author's file) with the project's compiler settings; returns the errors. */
async function typeErrors(source: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-metrics-types-'));
  try {
    const file = join(dir, 'plugin.ts');
    await writeFile(file, `import { definePlugin, type OptionsOf } from ${JSON.stringify(join(__dirname, '..', 'src', 'plugin-api'))};\n${source}`);
    const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2022, types: ['node'], skipLibCheck: true });
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const PLUGIN = `
const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    root: { type: 'string', default: '/sys' },
    sensors: { type: 'array', items: { type: 'string' } },
    mode: { enum: ['fast', 'slow'], default: 'fast' },
  },
} as const;
const manifest = { name: 'edge-collector-typed', apiVersion: 1, deviceTypes: ['typed'], metrics: [], optionsSchema };
`;

test('definePlugin types the options from the manifest schema: defaults present, the rest optional', async () => {
  expect(
    await typeErrors(`${PLUGIN}
export const plugin = definePlugin({
  manifest,
  create: (options) => {
    const root: string = options.root;
    const mode: 'fast' | 'slow' = options.mode;
    const sensors: string[] | undefined = options.sensors ? [...options.sensors] : undefined;
    return { collect: () => [{ name: root + mode, value: sensors?.length ?? 0 }] };
  },
});
type Options = OptionsOf<typeof optionsSchema>;
export const root: Options['root'] = '/sys';`),
  ).toEqual([]);
});

test('definePlugin rejects an option the schema does not have, and an optional one used as present', async () => {
  const errors = await typeErrors(`${PLUGIN}
export const plugin = definePlugin({
  manifest,
  create: (options) => {
    const typo: string = options.rot;
    const sensors: readonly string[] = options.sensors;
    return { collect: () => [{ name: typo, value: sensors.length }] };
  },
});`);
  expect(errors).toEqual([expect.stringContaining("Property 'rot' does not exist"), expect.stringMatching(/'undefined' is not assignable/)]);
});

test('definePlugin returns the plugin unchanged; NoDataError is recognised, also from another copy of core', () => {
  const plugin = { manifest: { name: 'edge-collector-x', apiVersion: 1, deviceTypes: ['x'], metrics: [] }, create: () => ({ collect: () => [] }) };
  expect(definePlugin(plugin)).toBe(plugin);
  expect(isNoData(new NoDataError('no sensor'))).toBe(true);
  expect(isNoData(Object.assign(new Error('no sensor'), { name: 'NoDataError' }))).toBe(true);
  expect(isNoData(new Error('sensor failed'))).toBe(false);
  expect(isNoData(undefined)).toBe(false);
});
