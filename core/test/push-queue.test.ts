import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SegmentQueue, type DropReason, type QueueLimits } from '../src/push/queue';
import { tempDir } from './helpers';

/** A queue in a temp folder whose drops and repairs are kept to be checked. */
async function openQueue(dir: string, limits: Partial<QueueLimits> = {}) {
  const dropped: Array<{ reason: DropReason; samples: number }> = [];
  const repaired: string[] = [];
  const queue = await SegmentQueue.open(dir, { maxBytes: 2 ** 20, maxAgeMs: 3_600_000, ...limits }, {
    dropped: (reason, samples) => dropped.push({ reason, samples }),
    repaired: (detail) => repaired.push(detail),
  });
  return { queue, dropped, repaired };
}

/** A cycle's payload that says which cycle it is. */
const cycle = (n: number, bytes = 40): Buffer => Buffer.from(`cycle ${n} `.padEnd(bytes, '.'));

/** Reads every pending batch, committing each; returns the cycles read, in order. */
async function drain(queue: SegmentQueue, maxSamples = 7): Promise<number[]> {
  const seen: number[] = [];
  for (;;) {
    const batch = await queue.readBatch(maxSamples);
    if (batch.consumed.size === 0) return seen;
    seen.push(...batch.payloads.map((payload) => Number(/cycle (\d+)/.exec(payload.toString())![1])));
    await queue.commit(batch);
  }
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ path: dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const now = Date.now();

test('cycles come back oldest first across batches, and a reopened queue goes on after the last commit', async () => {
  const { queue } = await openQueue(dir);
  for (let n = 0; n < 10; n++) queue.append(cycle(n), 3, now + n);
  const first = await queue.readBatch(7);
  expect(first.payloads.map(String)).toEqual([0, 1, 2].map((n) => cycle(n).toString()));
  expect(first.samples).toBe(9);
  await queue.commit(first);
  expect(queue.pendingSamples).toBe(21);
  expect(queue.oldestPendingTimestamp).toBe(now + 3);
  // Read but not acknowledged: sent again after a restart.
  await queue.readBatch(7);
  await queue.close();

  const reopened = await openQueue(dir);
  expect(reopened.queue.pendingSamples).toBe(21);
  expect(reopened.queue.oldestPendingTimestamp).toBe(now + 3);
  reopened.queue.append(cycle(10), 3, now + 10);
  expect(await drain(reopened.queue)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  expect(reopened.queue.pendingSamples).toBe(0);
  expect(reopened.queue.pendingBytes).toBe(0);
  expect(reopened.queue.oldestPendingTimestamp).toBeUndefined();
  await reopened.queue.close();
});

test('a torn record at the end of a segment (a crash while writing) is truncated, and the queue goes on', async () => {
  const { queue } = await openQueue(dir);
  for (let n = 0; n < 4; n++) queue.append(cycle(n), 2, now + n);
  await queue.close();
  const [segment] = (await readdir(dir)).filter((name) => name.endsWith('.seg'));
  const whole = (await stat(join(dir, segment!))).size;
  // Half of a fifth record: its header says 40 bytes of payload, 10 are there.
  const header = Buffer.alloc(20);
  header.writeUInt32LE(40, 0);
  await appendFile(join(dir, segment!), Buffer.concat([header, Buffer.alloc(10, 7)]));

  const reopened = await openQueue(dir);
  expect(reopened.repaired).toHaveLength(1);
  expect((await stat(join(dir, segment!))).size).toBe(whole);
  expect(reopened.queue.pendingSamples).toBe(8);
  reopened.queue.append(cycle(4), 2, now + 4);
  expect(await drain(reopened.queue)).toEqual([0, 1, 2, 3, 4]);
  await reopened.queue.close();
});

test('a checkpoint that is not a number starts from the oldest segment rather than failing', async () => {
  const { queue } = await openQueue(dir);
  queue.append(cycle(0), 1, now);
  await queue.close();
  await writeFile(join(dir, 'checkpoint.json'), '{"position": "garbage"');
  const reopened = await openQueue(dir);
  expect(await drain(reopened.queue)).toEqual([0]);
  expect(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ position: expect.any(Number) });
  await reopened.queue.close();
});

test('the checkpoint is written over in place at one size, readable after every commit; one of an earlier size is read too', async () => {
  const { queue } = await openQueue(dir);
  for (let n = 0; n < 6; n++) queue.append(cycle(n), 3, now + n);
  const checkpoint = async () => {
    const text = await readFile(join(dir, 'checkpoint.json'), 'utf8');
    return { bytes: text.length, position: (JSON.parse(text) as { position: number }).position };
  };
  for (const expected of [[0], [1], [2]]) {
    const batch = await queue.readBatch(3);
    expect(batch.payloads.map(String)).toEqual(expected.map((n) => cycle(n).toString()));
    await queue.commit(batch);
    expect(await checkpoint()).toEqual({ bytes: 32, position: batch.end });
  }
  // Not closed, as after a SIGKILL: the next run goes on after the last commit.
  const next = await openQueue(dir);
  expect(next.queue.pendingSamples).toBe(9);

  // A checkpoint as shorter JSON (as written before the fixed size), at the boundary after cycle 3.
  const { position } = await checkpoint();
  await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ position: position + 20 + cycle(3).length }));
  const reopened = await openQueue(dir);
  expect(await drain(reopened.queue, 3)).toEqual([4, 5]);
  expect((await checkpoint()).bytes).toBe(32);
  await Promise.all([queue.close(), next.queue.close(), reopened.queue.close()]);
});

test('at max_disk the oldest segments are deleted and their samples counted; the newest stay and disk use stays bounded', async () => {
  const maxBytes = 16 * 1024;
  const { queue, dropped } = await openQueue(dir, { maxBytes });
  for (let n = 0; n < 400; n++) {
    queue.append(cycle(n, 200), 5, now + n);
    if (n % 50 === 0) await queue.readBatch(0); // lets the writer run, as cycles a second apart do
  }
  await queue.readBatch(0);
  const onDisk = (await Promise.all((await readdir(dir)).map((name) => stat(join(dir, name))))).reduce((sum, file) => sum + file.size, 0);
  expect(onDisk).toBeLessThanOrEqual(maxBytes + 100);
  const lost = dropped.filter((drop) => drop.reason === 'max_disk').reduce((sum, drop) => sum + drop.samples, 0);
  expect(lost).toBeGreaterThan(0);
  expect(lost + queue.pendingSamples).toBe(400 * 5);
  const kept = await drain(queue, 50);
  expect(kept.at(-1)).toBe(399);
  // What is left is the newest cycles, without a gap.
  expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 400 - kept.length + i));
  await queue.close();
});

test('records older than max_age are skipped and counted, not sent', async () => {
  const { queue, dropped } = await openQueue(dir, { maxAgeMs: 60_000 });
  queue.append(cycle(0), 4, now - 120_000);
  queue.append(cycle(1), 4, now - 1000);
  const batch = await queue.readBatch(100, now);
  expect(batch.payloads.map(String)).toEqual([cycle(1).toString()]);
  expect(batch.samples).toBe(4);
  expect(dropped).toEqual([{ reason: 'max_age', samples: 4 }]);
  await queue.commit(batch);
  expect(queue.pendingSamples).toBe(0);
  await queue.close();
});

test('a cycle larger than a read (thousands of series) is read whole', async () => {
  const { queue } = await openQueue(dir, { maxBytes: 16 * 2 ** 20 });
  queue.append(cycle(0, 300_000), 10_000, now);
  queue.append(cycle(1), 3, now + 1);
  const batch = await queue.readBatch(5);
  expect(batch.payloads.map((payload) => payload.length)).toEqual([300_000]);
  await queue.commit(batch);
  expect(await drain(queue)).toEqual([1]);
  await queue.close();
});
