import { spawn, spawnSync } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfigFile } from '../src/config/load';
import { Exporter } from '../src/exporter';
import { serve, type Listening } from '../src/http/server';
import { asUnprivileged } from '../src/testing';
import { exporterSandbox, memoryLogger, pluginSource, tempDir, waitFor, writePackage, type ExporterSandbox } from './helpers';

/**
 * The config file under crashes, concurrency and a disk that refuses writes: a change that was acknowledged is
 * never lost, and config.yaml is never left truncated or invalid.
 */

const FILE_JS = join(__dirname, '..', 'dist', 'config', 'file.js');

/** A config with comments, metrics and a long comment line, so that a write takes a while and kills land inside it. */
function bigConfig(metricCount: number): string {
  const metrics = Array.from({ length: metricCount }, (_, i) => `  seeded_metric_${i}: ${i % 3 === 0}   # seeded ${i}`).join('\n');
  return `# Edge Metrics Exporter config, kept by hand and by the exporter
# ${'padding '.repeat(25_000)}
device_type: good   # the plugin under test
interval: 1

# What is exposed
metrics:
${metrics}
`;
}

describe('config.yaml when the writing process is killed at random points', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => dir.cleanup());

  /** Runs a child that changes one metric per write, forever, printing each change once written; kills it. */
  function writeUntilKilled(configPath: string, first: number, killAfterMs: number, waitForFirstAck: boolean): Promise<number[]> {
    const script = `
const { ConfigFile } = require(${JSON.stringify(FILE_JS)});
const file = new ConfigFile(process.argv[1]);
(async () => {
  for (let n = Number(process.argv[2]); ; n++) {
    await file.setMetrics({ ['killed_writer_' + n]: n % 2 === 0 });
    process.stdout.write(n + '\\n');
  }
})();
`;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script, configPath, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      let stderr = '';
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      };
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        arm();
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      if (!waitForFirstAck) arm();
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal !== 'SIGKILL') reject(new Error(`the writer ended by itself (${code}): ${stderr}`));
        // Only complete lines are acknowledgements: a number cut by the kill was not printed.
        else resolve(output.split('\n').slice(0, -1).map(Number));
      });
    });
  }

  test('25 kills: the file is complete and valid each time, with every acknowledged change and the comments', async () => {
    const configPath = join(dir.path, 'config.yaml');
    await writeFile(configPath, bigConfig(200));
    const acknowledged = new Map<string, boolean>();
    for (let round = 0; round < 25; round++) {
      const acks = await writeUntilKilled(configPath, round * 100_000, Math.floor(Math.random() * 80), round % 4 !== 0);
      for (const n of acks) acknowledged.set(`killed_writer_${n}`, n % 2 === 0);
      const text = await readFile(configPath, 'utf8');
      const { config } = await loadConfigFile(configPath);
      expect(text.startsWith('# Edge Metrics Exporter config, kept by hand and by the exporter\n')).toBe(true);
      expect(text).toContain('# seeded 199');
      expect(config.metrics.seeded_metric_199).toBe(false);
      for (const [name, enabled] of acknowledged) expect([name, config.metrics[name]]).toEqual([name, enabled]);
    }
    expect(acknowledged.size).toBeGreaterThan(0);
  });
});

describe('config.yaml under concurrent API changes, reloads and hand edits', () => {
  let sandbox: ExporterSandbox;
  let exporter: Exporter;
  let listening: Listening;
  let configPath: string;
  const log = memoryLogger();

  beforeEach(async () => {
    sandbox = await exporterSandbox({ 'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good') }, log.logger);
    configPath = sandbox.configPath;
  });

  afterEach(() => sandbox.stop());

  async function start(config: string): Promise<void> {
    ({ exporter, listening } = await sandbox.serve(config));
  }

  const url = (path: string) => `http://127.0.0.1:${listening.port}${path}`;
  const post = (path: string, body = '') => fetch(url(path), { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  /** Runs `tasks` with at most `width` of them at once. */
  async function pool(tasks: Array<() => Promise<void>>, width: number): Promise<void> {
    const queue = [...tasks];
    await Promise.all(Array.from({ length: width }, async () => {
      for (let task = queue.shift(); task; task = queue.shift()) await task();
    }));
  }

  test('every acknowledged change ends up in the file and in memory', async () => {
    // `labels:` last, so that a line appended to the file adds a label.
    // The API only sets metrics the device has: the rails the changes below set are in the map from the start.
    const rails = Array.from({ length: 80 }, (_, i) => `  good_rail_api${i}_watts: false\n  good_rail_pair${i}_watts: false\n`).join('');
    await start(`# kept by hand\ndevice_type: good\ninterval: 0.1\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nmetrics:\n  good_power_watts: true\n${rails}labels:\n  site: lab\n`);
    const apiAcknowledged = new Map<string, boolean>();
    const editsAcknowledged = new Map<string, string>();

    const apiChange = (i: number) => async () => {
      const change = { [`good_rail_api${i}_watts`]: i % 3 !== 0, [`good_rail_pair${i}_watts`]: i % 2 === 0 };
      const response = await post('/metrics/enable', JSON.stringify(change));
      expect(response.status).toBe(200);
      Object.entries(change).forEach(([name, enabled]) => apiAcknowledged.set(name, enabled));
    };
    const reload = () => async () => {
      expect([200, 422]).toContain((await post('/reload')).status);
    };
    // An operator's edit: a line appended by hand, acknowledged by the reload that applies it.
    const handEdit = (i: number) => async () => {
      const [label, value] = [`edited_${i}`, `by "hand" {${i}}`];
      await appendFile(configPath, `  ${label}: ${JSON.stringify(value)}\n`);
      // 422: another edit's line was read half-written; the file watch applies the file once it is complete.
      expect([200, 422]).toContain((await post('/reload')).status);
      await waitFor(() => exporter.currentConfig.labels[label] === value, `the edit of ${label} to be applied`);
      editsAcknowledged.set(label, value);
    };
    const shuffled = <T>(items: T[]): T[] => items.sort(() => Math.random() - 0.5);
    // Bursts of API changes racing reloads, and bursts of hand edits racing reloads, in turn.
    for (let round = 0; round < 4; round++) {
      await pool(shuffled([...Array.from({ length: 20 }, (_, i) => apiChange(round * 20 + i)), ...Array.from({ length: 10 }, reload)]), 8);
      await pool(shuffled([...Array.from({ length: 5 }, (_, i) => handEdit(round * 5 + i)), ...Array.from({ length: 10 }, reload)]), 8);
    }

    const fileState = async () => {
      const { config } = await loadConfigFile(configPath);
      return { metrics: config.metrics, labels: config.labels };
    };
    // The file watch applies the last writes within about a second; then file and memory agree.
    await waitFor(async () => {
      const file = await fileState();
      const memory = exporter.currentConfig;
      return JSON.stringify(file.metrics) === JSON.stringify(memory.metrics) && JSON.stringify(file.labels) === JSON.stringify(memory.labels);
    }, 'the config in memory to agree with the file');
    const file = await fileState();
    const lost = [
      ...[...apiAcknowledged].filter(([name, enabled]) => file.metrics[name] !== enabled || exporter.currentConfig.metrics[name] !== enabled),
      ...[...editsAcknowledged].filter(([label, value]) => file.labels[label] !== value || exporter.currentConfig.labels[label] !== value),
    ];
    expect(lost).toEqual([]);
    expect([apiAcknowledged.size, editsAcknowledged.size]).toEqual([160, 20]);
    expect((await readFile(configPath, 'utf8')).startsWith('# kept by hand\n')).toBe(true);
    expect((await readdir(sandbox.path)).filter((entry) => entry.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a disk that refuses writes', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let exporter: Exporter | undefined;
  let listening: Listening | undefined;
  const log = memoryLogger();

  beforeEach(async () => {
    dir = await tempDir();
    log.lines.length = 0;
    // Readable by the unprivileged user the read-only test runs as.
    await chmod(dir.path, 0o755);
    await writePackage(join(dir.path, 'node_modules'), 'edge-collector-good', { 'index.js': pluginSource('edge-collector-good', 'good', 'good') });
  });

  afterEach(async () => {
    await listening?.close();
    await exporter?.stop();
    listening = exporter = undefined;
    await dir.cleanup();
  });

  async function start(configDir: string, config: string): Promise<string> {
    const configPath = join(configDir, 'config.yaml');
    await writeFile(configPath, config);
    await chmod(configPath, 0o644);
    exporter = await Exporter.create({ configPath, cwd: dir.path, env: {}, logger: log.logger, installDir: join(dir.path, 'node_modules') });
    await exporter.start();
    listening = await serve(exporter);
    return configPath;
  }

  const enable = (change: Record<string, boolean>) =>
    fetch(`http://127.0.0.1:${listening!.port}/metrics/enable`, { method: 'POST', body: JSON.stringify(change), headers: { 'content-type': 'application/json' } });

  const CONFIG = 'device_type: good\ninterval: 0.2\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nmetrics:\n  good_power_watts: true\n';

  test('a read-only folder: the change is refused with the reason, nothing saved is lost, and it works once writable', async () => {
    const configDir = join(dir.path, 'etc');
    await mkdir(configDir);
    const configPath = await start(configDir, CONFIG);
    const before = await readFile(configPath, 'utf8');
    await chmod(configDir, 0o555);
    const refused = await asUnprivileged(() => enable({ good_power_watts: false }));
    expect(refused.status).toBe(500);
    const { error } = (await refused.json()) as { error: string };
    expect(error).toContain(configPath);
    expect(error).toContain('EACCES');
    expect(error).toContain('the file is unchanged');
    expect(await readFile(configPath, 'utf8')).toBe(before);
    expect(exporter!.listMetrics().metrics.good_power_watts).toBe(true);
    expect(await readdir(configDir)).toEqual(['config.yaml']);

    await chmod(configDir, 0o755);
    expect((await enable({ good_power_watts: false })).status).toBe(200);
    expect(parse(await readFile(configPath, 'utf8')).metrics.good_power_watts).toBe(false);
  });

  /** Mounts a tmpfs of `size` at `at`; false where this machine does not allow it (not root, a container). */
  function mountTmpfs(at: string, size: string): boolean {
    return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', at], { stdio: 'ignore' }).status === 0;
  }

  /** Fills the file system holding `folder` until a write fails with ENOSPC. */
  async function fill(folder: string): Promise<void> {
    const chunk = Buffer.alloc(4096, 120);
    for (let i = 0; ; i++) {
      try {
        await appendFile(join(folder, 'filler'), chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
        return;
      }
      if (i > 10_000) throw new Error(`${folder} never filled up`);
    }
  }

  test('a full disk: the change is refused with the reason, nothing saved is lost, and it works once there is room', async () => {
    const disk = join(dir.path, 'disk');
    await mkdir(disk);
    if (mountTmpfs(disk, '256k')) {
      try {
        const configPath = await start(disk, CONFIG + `# padding\n${'#'.repeat(100)}\n`.repeat(50));
        const before = await readFile(configPath, 'utf8');
        await fill(disk);
        const refused = await enable({ good_power_watts: false });
        expect(refused.status).toBe(500);
        const { error } = (await refused.json()) as { error: string };
        expect(error).toContain(configPath);
        expect(error).toContain('ENOSPC');
        expect(await readFile(configPath, 'utf8')).toBe(before);
        expect(exporter!.listMetrics().metrics.good_power_watts).toBe(true);
        expect((await readdir(disk)).sort()).toEqual(['config.yaml', 'filler']);

        await rm(join(disk, 'filler'));
        expect((await enable({ good_power_watts: false })).status).toBe(200);
        expect(parse(await readFile(configPath, 'utf8')).metrics.good_power_watts).toBe(false);
      } finally {
        await listening?.close();
        await exporter?.stop();
        listening = exporter = undefined;
        spawnSync('umount', [disk]);
      }
    } else {
      // Without a mount, a file size limit (RLIMIT_FSIZE) makes the same write fail, with EFBIG.
      const configPath = join(disk, 'config.yaml');
      await writeFile(configPath, CONFIG + `# padding\n${'#'.repeat(100)}\n`.repeat(50));
      const before = await readFile(configPath, 'utf8');
      const change = `const { ConfigFile } = require(${JSON.stringify(FILE_JS)});
new ConfigFile(process.argv[1]).setMetrics({ good_power_watts: false }).then(() => console.log('saved'), (error) => console.log(error.message));`;
      const limited = spawnSync('sh', ['-c', 'ulimit -f 4 && exec "$0" -e "$1" "$2"', process.execPath, change, configPath], { encoding: 'utf8', timeout: 20_000 });
      expect(limited.stdout).toContain(configPath);
      expect(limited.stdout).toContain('EFBIG');
      expect(limited.stdout).toContain('the file is unchanged');
      expect(await readFile(configPath, 'utf8')).toBe(before);
      expect((await readdir(disk)).sort()).toEqual(['config.yaml']);
      const unlimited = spawnSync(process.execPath, ['-e', change, configPath], { encoding: 'utf8', timeout: 20_000 });
      expect(unlimited.stdout).toBe('saved\n');
      expect(parse(await readFile(configPath, 'utf8')).metrics.good_power_watts).toBe(false);
    }
  });
});
