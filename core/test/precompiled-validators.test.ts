import Ajv from 'ajv';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRECOMPILED } from '../src/precompiled-validators';
import { AJV_OPTIONS, describeAjvErrors, validatorFor } from '../src/validation';
import { ExporterProcess, moduleLoadWatcher, pluginSource, tempDir, waitFor, writePackage } from './helpers';

const SCRIPT = join(__dirname, '..', 'scripts', 'validators.js');
const GENERATED = join(__dirname, '..', 'src', 'precompiled-validators.ts');
const FIRST_PARTY = ['edge-collector-jetson', 'edge-collector-lattepanda-rapl', 'edge-collector-orangepi-sysfs', 'edge-collector-raspberrypi-ina260', 'edge-collector-shelly'];

/** Runs the generator's check against `file` (the built core's and plugins' schemas are the truth). */
function check(file: string): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, [SCRIPT, '--check', '--file', file], { encoding: 'utf8', timeout: 20_000 });
}

test('the committed validators are what the schemas of the built core and plugins give', () => {
  expect(check(GENERATED)).toMatchObject({ status: 0, stderr: '' });
});

test('stale validators fail the check and say how to regenerate them', async () => {
  const dir = await tempDir();
  try {
    const stale = join(dir.path, 'precompiled-validators.ts');
    await writeFile(stale, (await readFile(GENERATED, 'utf8')).replace('"minLength":1', '"minLength":2'));
    expect(check(stale)).toMatchObject({ status: 1, stderr: expect.stringContaining('is stale') });
    expect(check(stale).stderr).toContain('npm run generate:schema');
  } finally {
    await dir.cleanup();
  }
});

test("every first-party plugin's options schema has its precompiled validator", () => {
  for (const name of FIRST_PARTY) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built plugin, as an exporter loads it
    const { manifest } = require(name) as { manifest: { optionsSchema: object } };
    expect([name, validatorFor(manifest.optionsSchema)]).toEqual([name, PRECOMPILED.get(JSON.stringify(manifest.optionsSchema))]);
  }
});

/** A value for an object schema: some of its properties and an unknown one, each anything, or not an object at all. */
function candidates(schema: { properties?: Record<string, unknown> }): fc.Arbitrary<unknown> {
  const keys = [...Object.keys(schema.properties ?? {}), 'unknown_key'];
  return fc.oneof(fc.dictionary(fc.constantFrom(...keys), fc.anything(), { maxKeys: keys.length }), fc.anything());
}

test.each([...PRECOMPILED.keys()].map((json, index) => [index, json]))(
  'precompiled validator %i answers as ajv compiling its schema: the same verdict, error texts and defaults',
  (_index, json) => {
    const schema = JSON.parse(json) as { properties?: Record<string, unknown> };
    const precompiled = PRECOMPILED.get(json)!;
    const compiled = new Ajv(AJV_OPTIONS).compile(schema);
    fc.assert(
      fc.property(candidates(schema), (value) => {
        const [a, b] = [structuredClone(value), structuredClone(value)];
        expect([precompiled(a), describeAjvErrors(precompiled.errors), a]).toEqual([compiled(b), describeAjvErrors(compiled.errors), b]);
      }),
      { numRuns: 200 },
    );
  },
);

describe("ajv's compiler loads only for an options schema core did not precompile", () => {
  /** Starts the CLI on `config` in a temp folder, with a preload that says on stderr when ajv's compiler is required. */
  async function startWatched(config: string, plugins: Record<string, string> = {}) {
    const dir = await tempDir();
    const watcher = await moduleLoadWatcher(dir.path, ['ajv']);
    for (const [name, source] of Object.entries(plugins)) await writePackage(join(dir.path, 'node_modules'), name, { 'index.js': source });
    await writeFile(join(dir.path, 'config.yaml'), `port: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nplugin_dirs: [node_modules]\n${config}`);
    const exporter = new ExporterProcess(dir.path, [], watcher);
    return {
      exporter,
      async scrape() {
        const { metrics } = await exporter.urls();
        // The exposition is empty until the first cycle is published.
        return waitFor(async () => (await fetch(`${metrics}/metrics`)).text(), 'the first collection cycle');
      },
      async stop() {
        exporter.kill();
        await exporter.exited;
        await dir.cleanup();
      },
    };
  }

  test('the host collector (config, options) starts and serves without it', async () => {
    const run = await startWatched('device_type: host\noptions: { proc_root: /proc }\n');
    try {
      expect(await run.scrape()).toContain('nodejs_version_info');
      expect(run.exporter.log).not.toContain('loaded ajv');
    } finally {
      await run.stop();
    }
  });

  test("a third-party plugin's options schema loads it, and its options are checked and completed", async () => {
    const source = pluginSource('edge-collector-acme', 'acme', 'acme', "return [{ name: 'acme_power_watts', value: options.scale, labels: { sensor: 'main' } }];");
    const bad = await startWatched('device_type: acme\noptions: { scale: many }\n', { 'edge-collector-acme': source });
    try {
      expect(await bad.exporter.exited).not.toBe(0);
      expect(bad.exporter.log).toMatch(/invalid options for edge-collector-acme: \S*config\.yaml: options\.scale: must be a number/);
    } finally {
      await bad.stop();
    }
    const good = await startWatched('device_type: acme\nmetrics: { acme_power_watts: true }\n', { 'edge-collector-acme': source });
    try {
      // The schema's default (scale: 1) reached create().
      expect(await good.scrape()).toMatch(/^acme_power_watts\{[^}]*\} 1$/m);
      expect(good.exporter.log).toContain('loaded ajv');
    } finally {
      await good.stop();
    }
  });
});
