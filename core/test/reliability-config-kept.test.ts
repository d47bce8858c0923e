import { lstat, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ExporterProcess, tempDir, waitFor } from './helpers';

const TOKEN = 'local-secret';
const CONFIG = `# this device's own settings
device_type: host
interval: 0.2
port: 0
reload_port: 0
listen_address: 127.0.0.1
management_token: ${TOKEN}
labels:
  site: roof
metrics:
  host_load1: true
`;

let dir: { path: string; cleanup: () => Promise<void> };
let exporter: ExporterProcess | undefined;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  exporter?.kill();
  exporter = undefined;
  await dir.cleanup();
});

describe('the config in force survives its file going away', () => {
  test('a removed config.yaml keeps the token and the rest in force, and the next write puts them back', async () => {
    const configPath = join(dir.path, 'config.yaml');
    await writeFile(configPath, CONFIG);
    exporter = new ExporterProcess(dir.path);
    const { manage } = await exporter.urls();
    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${manage}/metrics/list`)).status).toBe(401);
    // Discovered metrics saved first: a save after the removal would put the file back before the reload sees it gone.
    // CPU usage is discovered a cycle later than the rest (it needs two readings).
    await waitFor(async () => /host_load5: false[^]*host_cpu_core_usage_percent: false/.test(await readFile(configPath, 'utf8')), 'the discovered metrics to be saved');

    await rm(configPath);
    await waitFor(() => exporter!.log.includes(`${configPath}: the file is missing`), 'the missing file to be reported');
    expect((await fetch(`${manage}/metrics/list`)).status).toBe(401);
    expect((await fetch(`${manage}/metrics/enable`, { method: 'POST', body: '{"host_load5": true}' })).status).toBe(401);
    expect(await (await fetch(`${manage}/metrics/list`, { headers: bearer })).json()).toMatchObject({ source: 'local', metrics: { host_load1: true } });

    const enabled = await fetch(`${manage}/metrics/enable`, { method: 'POST', body: '{"host_load5": true}', headers: bearer });
    expect(enabled.status).toBe(200);
    const written = await readFile(configPath, 'utf8');
    expect(written).toContain("# this device's own settings");
    expect(parse(written)).toMatchObject({ ...parse(CONFIG), metrics: { host_load1: true, host_load5: true } });
    // The watcher sees the file come back: still the same config, still closed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await fetch(`${manage}/metrics/list`)).status).toBe(401);
    expect(exporter.log).not.toContain('config reloaded from built-in defaults');
  });
});

describe('a config.yaml that is a symlink', () => {
  test("the exporter's writes go to the file it names, and edits of that file apply", async () => {
    const link = join(dir.path, 'config.yaml');
    const target = join(dir.path, 'managed', 'edge.yaml');
    await mkdir(join(dir.path, 'managed'));
    await writeFile(target, 'device_type: host\ninterval: 0.2\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nlabels:\n  site: roof\nmetrics:\n  host_load1: true\n');
    await symlink('managed/edge.yaml', link);
    exporter = new ExporterProcess(dir.path);
    const { metrics, manage } = await exporter.urls();

    expect((await fetch(`${manage}/metrics/enable`, { method: 'POST', body: '{"host_load5": true}' })).status).toBe(200);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(parse(await readFile(target, 'utf8')).metrics).toMatchObject({ host_load1: true, host_load5: true });

    // An editor's save: a new file renamed onto the target.
    const edited = (await readFile(target, 'utf8')).replace('site: roof', 'site: cellar');
    await writeFile(`${target}.swp`, edited);
    await rename(`${target}.swp`, target);
    await waitFor(async () => (await (await fetch(`${metrics}/metrics`)).text()).includes('site="cellar"'), 'the edit of the target to apply');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });
});
