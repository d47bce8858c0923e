import { spawn, type ChildProcess } from 'node:child_process';
import { cleanUp, request, SAMPLE_CONFIG, startServer } from './helpers';

/**
 * The SQLite file locked by another process (a backup, the sqlite3 shell) for longer than the busy timeout:
 * reads go on, a write is answered 503 with Retry-After and logged, nothing stored is lost, and writes work
 * again once the lock is gone.
 */

afterEach(cleanUp);

/** A process holding the database's write lock (BEGIN IMMEDIATE) until its stdin closes. */
function lockDatabase(dbPath: string): Promise<{ release(): Promise<void> }> {
  const script = `
const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => { db.exec('COMMIT'); db.close(); });
`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script, dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the locking process exited (${code}) before it took the lock`)));
    child.stdout!.once('data', () => {
      child.removeAllListeners('exit');
      resolve({
        release: () =>
          new Promise<void>((released) => {
            child.once('exit', () => released());
            child.stdin!.end();
          }),
      });
    });
  });
}

describe('a database locked by another process', () => {
  test('is survived: 503 with Retry-After and a log line for the write, reads go on, writes work once the lock is gone', async () => {
    const { base, dbPath, logs } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const lock = await lockDatabase(dbPath);
    try {
      const read = await request(base, '/config/edge-01');
      expect(read.status).toBe(200);
      expect(read.json()).toEqual(SAMPLE_CONFIG);

      const refused = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 } });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.json().error).toContain('locked');
      expect(logs.filter((line) => line.startsWith('error:'))).toEqual([expect.stringContaining('database is locked')]);
      const metrics = (await request(base, '/metrics')).text;
      expect(metrics).toMatch(/^config_server_http_requests_total\{method="PUT",route="\/config\/:deviceId",code="503"\} 1$/m);
    } finally {
      await lock.release();
    }
    const written = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 } });
    expect([written.status, written.json()]).toEqual([200, { device_id: 'edge-01', version: 2, changed: true }]);
    const history = (await request(base, '/config/edge-01/history')).json() as { versions: Array<{ version: number; config: unknown }> };
    expect(history.versions.map(({ version, config }) => [version, config])).toEqual([[2, { ...SAMPLE_CONFIG, interval: 2 }], [1, SAMPLE_CONFIG]]);
  });
});
