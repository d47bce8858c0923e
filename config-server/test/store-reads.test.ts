import { join } from 'node:path';
import { SqliteDatabase } from '../src/sqlite-db';
import type { SqlValue } from '../src/sql';
import { SqlStore } from '../src/store';
import { cleanUp, SAMPLE_CONFIG, tempDir } from './helpers';

afterEach(cleanUp);

/** A real SQLite database that counts the statements read through it. */
class CountedReads extends SqliteDatabase {
  reads = 0;

  override async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    this.reads += 1;
    return super.get<T>(sql, params);
  }

  override async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    this.reads += 1;
    return super.all<T>(sql, params);
  }
}

describe('reading current versions', () => {
  it('answers the devices asked for at once (a change waking their long-polls) with one read per 500', async () => {
    const db = new CountedReads(join(await tempDir(), 'fleet.db'));
    const store = new SqlStore(db);
    await store.open();
    const admin = { source: 'admin' as const, address: null };
    for (const id of ['edge-01', 'edge-02']) await store.writeDeviceConfig(id, SAMPLE_CONFIG, admin, () => undefined);
    await store.writeDeviceConfig('edge-02', { ...SAMPLE_CONFIG, interval: 2 }, admin, () => undefined);

    db.reads = 0;
    const asked = ['edge-01', 'edge-02', 'edge-01', 'unknown'];
    const answers = await Promise.all(asked.map((id) => store.current(id)));
    expect(answers.map((answer) => [answer?.version, answer?.config.interval])).toEqual([[1, 1], [2, 2], [1, 1], [undefined, undefined]]);
    expect(db.reads).toBe(1);

    db.reads = 0;
    const many = Array.from({ length: 501 }, (_, index) => `edge-${String(index + 1).padStart(2, '0')}`);
    const found = (await Promise.all(many.map((id) => store.current(id)))).filter((answer) => answer !== undefined);
    expect(found.map((answer) => answer.version)).toEqual([1, 2]);
    expect(db.reads).toBe(2);
    await store.close();
  });
});
