import { mkdir, open, readFile, readdir, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describeError } from '../errors';

/**
 * A receiver's on-disk queue (store-and-forward): every cycle is appended as one record to a segment file, a sender
 * reads the oldest records first, and a checkpoint (the position up to which the receiver acknowledged) moves only
 * when the sender commits. Positions are byte offsets that only grow; a segment is named by the position of its first
 * byte, so a checkpoint names a segment and a place in it. Segments behind the checkpoint are deleted.
 *
 * A record: payload length (u32), CRC-32 of the rest (u32), sample count (u32), timestamp in ms (f64), payload.
 * A crash can leave the last record of a segment half written: opening truncates a segment at its first record that
 * does not check out, so a torn tail is dropped, never fatal.
 *
 * Appending never waits: `append` buffers in memory (bounded) and one writer drains the buffer. Every file operation
 * runs in one chain, so the writer, the reader and the trimming never see each other half done.
 */

const HEADER_BYTES = 20;
const SEGMENT_FILE = /^(\d{16})\.seg$/;
const CHECKPOINT_FILE = 'checkpoint.json';
/** The checkpoint's JSON, padded with spaces to a fixed size so that each one is written over the last in place. */
const CHECKPOINT_BYTES = 32;
const MAX_SEGMENT_BYTES = 8 * 2 ** 20;
const MIN_SEGMENT_BYTES = 4096;
/** What the queue holds in memory while its disk is slow or failing; beyond it cycles are dropped. */
const MAX_BUFFERED_BYTES = 16 * 2 ** 20;
/** How much of a segment a read takes at once. */
const READ_CHUNK_BYTES = 64 * 1024;

export type DropReason = 'max_disk' | 'max_age' | 'write_error' | 'buffer_full';

export interface QueueLimits {
  maxBytes: number;
  maxAgeMs: number;
}

export interface QueueEvents {
  /** Samples given up by the queue itself; `detail` says why, for a log line. */
  dropped(reason: DropReason, samples: number, detail: string): void;
  /** Something on disk was repaired (a torn tail truncated); for a log line. */
  repaired(detail: string): void;
}

export interface Batch {
  /** The payloads of the records read, oldest first. */
  payloads: Buffer[];
  samples: number;
  /** The position after the last record read: what `commit` takes once the receiver acknowledged. */
  end: number;
  /** Per segment (by start position), the samples this batch consumes there, sent or too old. */
  consumed: Map<number, number>;
}

interface Segment {
  start: number;
  size: number;
  samples: number;
  /** Samples before the read position, once the reader is inside this segment. */
  consumed: number;
  lastTimestamp: number;
}

interface Pending {
  payload: Buffer;
  samples: number;
  timestamp: number;
}

export class SegmentQueue {
  private readonly segments: Segment[] = [];
  private position = 0;
  private writer: FileHandle | undefined;
  /** The checkpoint file, kept open between commits. */
  private checkpointFile: FileHandle | undefined;
  /** The segment being read, kept open between batches. */
  private reader: { segment: Segment; handle: FileHandle } | undefined;
  private buffered: Pending[] = [];
  private bufferedBytes = 0;
  private oldestTimestamp: number | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private flushing = false;
  private closed = false;
  private appendListener: () => void = () => undefined;

  private constructor(
    readonly dir: string,
    private readonly limits: QueueLimits,
    private readonly events: QueueEvents,
    private readonly segmentBytes: number,
  ) {}

  /** Opens (or creates) the queue in `dir`: reads the checkpoint and checks every segment, truncating torn tails. */
  static async open(dir: string, limits: QueueLimits, events: QueueEvents): Promise<SegmentQueue> {
    const segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(MAX_SEGMENT_BYTES, Math.floor(limits.maxBytes / 8)));
    const queue = new SegmentQueue(dir, limits, events, segmentBytes);
    await mkdir(dir, { recursive: true });
    await queue.load();
    return queue;
  }

  /** Called after each append, so that a waiting sender wakes. */
  onAppend(listener: () => void): void {
    this.appendListener = listener;
  }

  get pendingSamples(): number {
    let samples = this.buffered.reduce((sum, pending) => sum + pending.samples, 0);
    for (const segment of this.segments) samples += segment.samples - segment.consumed;
    return samples;
  }

  /** Bytes on disk not yet acknowledged, and those still in memory. */
  get pendingBytes(): number {
    let bytes = this.bufferedBytes;
    for (const segment of this.segments) bytes += Math.max(0, segment.start + segment.size - Math.max(segment.start, this.position));
    return bytes;
  }

  /** The collection time (ms) of the oldest sample not yet acknowledged, or undefined when nothing is pending. */
  get oldestPendingTimestamp(): number | undefined {
    if (this.pendingSamples === 0) return undefined;
    return this.oldestTimestamp ?? this.buffered[0]?.timestamp;
  }

  /** Queues one cycle's `WriteRequest` (`samples` series, collected at `timestamp` ms) for the disk; never waits. */
  append(payload: Buffer, samples: number, timestamp: number): void {
    if (this.closed || samples === 0) return;
    if (this.bufferedBytes + payload.length > MAX_BUFFERED_BYTES) {
      this.events.dropped('buffer_full', samples, `the disk queue in ${this.dir} is not keeping up (${this.bufferedBytes} bytes waiting to be written)`);
      return;
    }
    this.buffered.push({ payload, samples, timestamp });
    this.bufferedBytes += payload.length;
    if (!this.flushing) {
      this.flushing = true;
      void this.serial(() => this.flush());
    }
  }

  /**
   * Reads the oldest records not yet acknowledged, up to `maxSamples` samples (at least one record). Records older
   * than `max_age` are skipped and counted as dropped; they are consumed with the batch.
   */
  readBatch(maxSamples: number, now = Date.now()): Promise<Batch> {
    return this.serial(async () => {
      const batch: Batch = { payloads: [], samples: 0, end: this.position, consumed: new Map() };
      let tooOld = 0;
      for (const segment of this.segments) {
        let offset = Math.max(batch.end, segment.start) - segment.start;
        let chunkBytes = READ_CHUNK_BYTES;
        while (offset < segment.size && batch.samples < maxSamples) {
          const chunk = await this.read(segment, offset, Math.min(chunkBytes, segment.size - offset));
          let read = 0;
          for (const record of records(chunk)) {
            read = record.next;
            if (record.timestamp < now - this.limits.maxAgeMs) tooOld += record.samples;
            else {
              batch.payloads.push(record.payload);
              batch.samples += record.samples;
            }
            batch.consumed.set(segment.start, (batch.consumed.get(segment.start) ?? 0) + record.samples);
            if (batch.samples >= maxSamples) break;
          }
          if (read === 0) {
            // A record longer than a chunk: read it whole next. (Below the known size every record is whole.)
            chunkBytes = HEADER_BYTES + chunk.readUInt32LE(0);
            continue;
          }
          chunkBytes = READ_CHUNK_BYTES;
          offset += read;
          batch.end = segment.start + offset;
        }
        if (batch.samples >= maxSamples) break;
      }
      if (tooOld > 0) this.events.dropped('max_age', tooOld, `samples older than max_age (${Math.round(this.limits.maxAgeMs / 1000)} s) in ${this.dir}`);
      return batch;
    });
  }

  /** The receiver acknowledged `batch` (or refused it for good): moves the checkpoint past it. */
  commit(batch: Batch): Promise<void> {
    return this.serial(async () => {
      for (const segment of this.segments) {
        const consumed = batch.consumed.get(segment.start);
        // A segment trimmed away meanwhile: its samples were counted as dropped then.
        if (consumed !== undefined) segment.consumed = Math.min(segment.samples, segment.consumed + consumed);
      }
      this.position = Math.max(this.position, batch.end);
      await this.removeConsumed();
      await this.writeCheckpoint();
      await this.refreshOldest();
    });
  }

  /** Writes what is buffered and closes the files; appends after this are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    await this.serial(async () => {
      await this.flush();
      await this.writer?.close();
      this.writer = undefined;
      await this.closeReader();
      await this.checkpointFile?.close().catch(() => undefined);
      this.checkpointFile = undefined;
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private pathOf(segment: Segment): string {
    return join(this.dir, `${String(segment.start).padStart(16, '0')}.seg`);
  }

  private async load(): Promise<void> {
    // Missing (a new queue) or unreadable: from the oldest segment; sending a batch twice beats losing it.
    let checkpoint = await readFile(join(this.dir, CHECKPOINT_FILE), 'utf8')
      .then((text) => Number((JSON.parse(text) as { position?: unknown } | null)?.position))
      .catch(() => 0);
    if (!Number.isSafeInteger(checkpoint) || checkpoint < 0) checkpoint = 0;
    const names = (await readdir(this.dir)).filter((name) => SEGMENT_FILE.test(name)).sort();
    let headBoundary = 0;
    for (const name of names) {
      const start = Number(SEGMENT_FILE.exec(name)![1]);
      let boundary = start;
      const path = join(this.dir, name);
      const data = await readFile(path);
      const segment: Segment = { start, size: 0, samples: 0, consumed: 0, lastTimestamp: 0 };
      for (const record of records(data)) {
        segment.size = record.next;
        segment.samples += record.samples;
        segment.lastTimestamp = record.timestamp;
        if (start + record.next <= checkpoint) {
          segment.consumed += record.samples;
          boundary = start + record.next;
        }
      }
      if (segment.size < data.length) {
        const handle = await open(path, 'r+');
        try {
          await handle.truncate(segment.size);
        } finally {
          await handle.close();
        }
        this.events.repaired(`${path}: ${data.length - segment.size} bytes after the last whole record (a write cut short) truncated`);
      }
      if (segment.size === 0 || segment.start + segment.size <= checkpoint) await unlink(path);
      else {
        if (this.segments.length === 0) headBoundary = boundary;
        this.segments.push(segment);
      }
    }
    // The checkpoint is a record boundary, unless a truncation took the record it was in: then the last boundary before it.
    const head = this.segments[0];
    this.position = head ? Math.max(head.start, headBoundary) : checkpoint;
    await this.refreshOldest();
  }

  private async flush(): Promise<void> {
    try {
      while (this.buffered.length > 0) {
        const cycles = this.buffered;
        this.buffered = [];
        this.bufferedBytes = 0;
        await this.write(cycles).catch((error) =>
          this.events.dropped('write_error', cycles.reduce((sum, cycle) => sum + cycle.samples, 0), `cannot write to ${this.dir}: ${describeError(error)}`),
        );
      }
    } finally {
      this.flushing = false;
    }
  }

  private async write(cycles: Pending[]): Promise<void> {
    const encoded = cycles.map((cycle) => ({ ...cycle, bytes: encodeRecord(cycle) }));
    await this.removeConsumed();
    await this.trim(encoded.reduce((sum, cycle) => sum + cycle.bytes.length, 0), Date.now());
    for (const cycle of encoded) {
      if (cycle.bytes.length > this.limits.maxBytes) {
        this.events.dropped('max_disk', cycle.samples, `one cycle (${cycle.bytes.length} bytes) is larger than max_disk_mb`);
        continue;
      }
      try {
        const segment = await this.activeSegment(cycle.bytes.length);
        // At the size known to be whole: a write that failed halfway is written over, never built upon.
        await this.writer!.write(cycle.bytes, 0, cycle.bytes.length, segment.size);
        segment.size += cycle.bytes.length;
        segment.samples += cycle.samples;
        segment.lastTimestamp = cycle.timestamp;
        this.oldestTimestamp ??= cycle.timestamp;
      } catch (error) {
        this.events.dropped('write_error', cycle.samples, `cannot write to ${this.dir}: ${describeError(error)}`);
        await this.writer?.close().catch(() => undefined);
        this.writer = undefined;
      }
    }
    this.appendListener();
  }

  /** The segment to append `bytes` to: the last one while it has room, else a new one. */
  private async activeSegment(bytes: number): Promise<Segment> {
    let last = this.segments.at(-1);
    if (last && this.writer && last.size + bytes <= this.segmentBytes) return last;
    if (last && !this.writer && last.size + bytes <= this.segmentBytes) {
      this.writer = await open(this.pathOf(last), 'r+');
      return last;
    }
    await this.writer?.close();
    this.writer = undefined;
    const start = Math.max(this.position, last ? last.start + last.size : 0);
    last = { start, size: 0, samples: 0, consumed: 0, lastTimestamp: 0 };
    this.writer = await open(this.pathOf(last), 'w');
    this.segments.push(last);
    return last;
  }

  /** Makes room for `incoming` bytes within max_disk_mb, and deletes segments older than max_age: oldest first. */
  private async trim(incoming: number, now: number): Promise<void> {
    let total = this.segments.reduce((sum, segment) => sum + segment.size, 0);
    let removed = false;
    while (this.segments.length > 0) {
      const oldest = this.segments[0]!;
      const full = total + incoming > this.limits.maxBytes;
      const expired = this.segments.length > 1 && oldest.lastTimestamp < now - this.limits.maxAgeMs;
      if (!full && !expired) break;
      const lost = oldest.samples - oldest.consumed;
      if (lost > 0) {
        const why = full ? `max_disk_mb (${this.limits.maxBytes} bytes) reached in ${this.dir}: the oldest samples are dropped` : `samples older than max_age in ${this.dir}`;
        this.events.dropped(full ? 'max_disk' : 'max_age', lost, why);
      }
      await this.removeSegment(oldest);
      removed = true;
      total -= oldest.size;
      this.position = Math.max(this.position, this.segments[0]?.start ?? oldest.start + oldest.size);
    }
    if (removed) await this.refreshOldest();
  }

  private async removeSegment(segment: Segment): Promise<void> {
    if (segment === this.segments.at(-1)) {
      await this.writer?.close();
      this.writer = undefined;
    }
    if (segment === this.reader?.segment) await this.closeReader();
    this.segments.splice(this.segments.indexOf(segment), 1);
    await unlink(this.pathOf(segment)).catch(() => undefined);
  }

  /** Deletes the segments the checkpoint has passed, but the one being appended to. */
  private async removeConsumed(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0]!.start + this.segments[0]!.size <= this.position) {
      await this.removeSegment(this.segments[0]!);
    }
  }

  /**
   * The first write of a queue renames a whole file over the old one (which may be of another size); later ones are
   * one write of the same size in place, which a killed process leaves done or not done, never half done. No fsync:
   * after a power cut the worst is a checkpoint that is old (a batch sent again) or unreadable (the queue sent again).
   */
  private async writeCheckpoint(): Promise<void> {
    const content = Buffer.from(JSON.stringify({ position: this.position }).padEnd(CHECKPOINT_BYTES));
    const path = join(this.dir, CHECKPOINT_FILE);
    try {
      if (this.checkpointFile) {
        await this.checkpointFile.write(content, 0, content.length, 0);
        return;
      }
      await writeFile(`${path}.tmp`, content);
      await rename(`${path}.tmp`, path);
      this.checkpointFile = await open(path, 'r+');
    } catch (error) {
      // Renamed afresh next time: a failing handle is not kept.
      await this.checkpointFile?.close().catch(() => undefined);
      this.checkpointFile = undefined;
      throw error;
    }
  }

  /** Reads the timestamp of the record at the read position: the oldest pending sample. */
  private async refreshOldest(): Promise<void> {
    const segment = this.segments.find((candidate) => candidate.start + candidate.size > this.position);
    if (!segment) {
      this.oldestTimestamp = undefined;
      return;
    }
    const header = await this.read(segment, Math.max(0, this.position - segment.start), HEADER_BYTES);
    this.oldestTimestamp = header.length === HEADER_BYTES ? header.readDoubleLE(12) : undefined;
  }

  /** Up to `length` bytes of `segment` from `offset`, through the reader (opened on the segment if need be). */
  private async read(segment: Segment, offset: number, length: number): Promise<Buffer> {
    if (this.reader?.segment !== segment) {
      await this.closeReader();
      this.reader = { segment, handle: await open(this.pathOf(segment), 'r') };
    }
    const buffer = Buffer.allocUnsafe(length);
    try {
      const { bytesRead } = await this.reader.handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      // Opened afresh next time: a failing handle is not kept.
      await this.closeReader();
      throw error;
    }
  }

  private async closeReader(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    await reader?.handle.close().catch(() => undefined);
  }
}

function encodeRecord({ payload, samples, timestamp }: Pending): Buffer {
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(samples, 8);
  record.writeDoubleLE(timestamp, 12);
  payload.copy(record, HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

/** The whole records at the start of `data`, each with the offset after it; stops at the first that does not check out. */
function* records(data: Buffer): Generator<{ payload: Buffer; samples: number; timestamp: number; next: number }> {
  let offset = 0;
  while (offset + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const next = offset + HEADER_BYTES + length;
    if (next > data.length) return;
    if (crc32(data.subarray(offset + 8, next)) !== data.readUInt32LE(offset + 4)) return;
    yield { payload: data.subarray(offset + HEADER_BYTES, next), samples: data.readUInt32LE(offset + 8), timestamp: data.readDoubleLE(offset + 12), next };
    offset = next;
  }
}
