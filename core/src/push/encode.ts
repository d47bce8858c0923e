import { Reader, Root, Writer } from 'protobufjs/light';
import { compress, uncompress } from 'snappyjs';
import type { ExpositionFamily, ExpositionSample } from '../metrics/exposition';

/**
 * Prometheus Remote-Write 1.0: a protobuf `WriteRequest` (prompb/types.proto and remote.proto, the fields a sample
 * needs) compressed as one snappy block. Metric metadata (field 3) is optional in 1.0 and not sent.
 */
const prompb = Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
});
const WriteRequest = prompb.lookupType('prometheus.WriteRequest');
const Sample = prompb.lookupType('prometheus.Sample');

export interface DecodedSeries {
  labels: Record<string, string>;
  samples: Array<{ value: number; timestamp: number }>;
}

/** A series' `WriteRequest` bytes, kept between cycles; only its sample changes from one cycle to the next. */
interface EncodedSeries {
  name: string;
  /** The sample's own labels (identity not included), as they were when the bytes were made. */
  labels: ReadonlyArray<readonly [string, string]>;
  /** A `WriteRequest` of this one series and one sample, as protobufjs encoded it. */
  bytes: Buffer;
  /** Where the encoded `Sample` starts in `bytes` (it ends them). */
  sampleAt: number;
}

/**
 * Encodes cycles as uncompressed `WriteRequest`s: every sample a series of its own, its labels those of `/metrics`
 * plus `identity` (a label the sample already carries wins) and `__name__`, sorted by name as receivers require.
 * Encoded `WriteRequest`s concatenate into one holding all their series (protobuf appends repeated fields), which is
 * how a cycle is put together and how the sender batches cycles.
 *
 * A series' labels rarely change, so protobufjs encodes each series once (a `WriteRequest` of it alone) and the
 * bytes are kept; a cycle copies them and puts its own `Sample` in place of the one they end with: the `Sample` of
 * the cycle's timestamp as protobufjs encoded it, with the series' value written in its `double` field. The bytes
 * are kept per family, by the sample's place in it (a family's samples come in the same order every cycle), and
 * used only while that place holds the same name and labels: a series whose labels change, or that takes the place
 * of one that is gone, is encoded again; a family missing from a cycle is forgotten.
 */
export class CycleEncoder {
  private families = new Map<string, EncodedSeries[]>();

  constructor(private readonly identity: ReadonlyArray<readonly [string, string]>) {}

  /** One cycle's samples, collected at `timestampMs`, and how many there are. */
  encode(families: readonly ExpositionFamily[], timestampMs: number): { writeRequest: Buffer; samples: number } {
    // Field 1 (value, a double: 8 bytes little-endian after its tag) first, then the timestamp. Any value but 0,
    // which protobufjs leaves out as the default, so that every sample has the double to write the value in.
    const sample = Buffer.from(Sample.encode({ value: 1, timestamp: timestampMs }).finish());
    const held: EncodedSeries[] = [];
    const values: number[] = [];
    const kept = new Map<string, EncodedSeries[]>();
    let bytes = 0;
    for (const family of families) {
      const encoded = this.families.get(family.name) ?? [];
      kept.set(family.name, encoded);
      family.samples.forEach(({ name, labels, value }, index) => {
        let series = encoded[index];
        // A timestamp whose varint is longer or shorter than the one the bytes were made with: made again too.
        if (series === undefined || !sameSeries(series, name, labels) || series.bytes.length - series.sampleAt !== sample.length) {
          series = this.encodeSeries(name, labels, timestampMs, sample.length);
          encoded[index] = series;
        }
        held.push(series);
        values.push(value);
        bytes += series.bytes.length;
      });
      encoded.length = family.samples.length;
    }
    this.families = kept;
    const writeRequest = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (const [index, series] of held.entries()) {
      writeRequest.set(series.bytes, offset);
      writeRequest.set(sample, offset + series.sampleAt);
      writeRequest.writeDoubleLE(values[index]!, offset + series.sampleAt + 1);
      offset += series.bytes.length;
    }
    return { writeRequest, samples: held.length };
  }

  private encodeSeries(name: string, own: ExpositionSample['labels'], timestampMs: number, sampleBytes: number): EncodedSeries {
    // Arrays rather than a Map, as the label sets are small.
    const labels: Array<readonly [string, string]> = this.identity.filter(([label]) => !own.some(([ownLabel]) => ownLabel === label));
    labels.push(...own, ['__name__', name]);
    labels.sort(byName);
    const bytes = Buffer.from(WriteRequest.encode({ timeseries: [{ labels: labels.map(([label, value]) => ({ name: label, value })), samples: [{ value: 1, timestamp: timestampMs }] }] }).finish());
    return { name, labels: own.map(([label, value]) => [label, value] as const), bytes, sampleAt: bytes.length - sampleBytes };
  }
}

function sameSeries(series: EncodedSeries, name: string, labels: ExpositionSample['labels']): boolean {
  if (series.name !== name || series.labels.length !== labels.length) return false;
  for (let index = 0; index < labels.length; index++) {
    const [label, value] = labels[index]!;
    const [keptLabel, keptValue] = series.labels[index]!;
    if (label !== keptLabel || value !== keptValue) return false;
  }
  return true;
}

function byName([a]: readonly [string, string], [b]: readonly [string, string]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A request body: the records' `WriteRequest`s, each a snappy block, as one snappy block of their concatenation,
 * without compressing again. A block is its uncompressed length (a varint) followed by elements whose copies reach
 * back from where they are written, never before the block's own start; so the elements of several blocks one after
 * another, behind the sum of their lengths, decompress to their data one after another.
 */
export function requestBody(blocks: readonly Buffer[]): Buffer {
  if (blocks.length === 1) return blocks[0]!;
  let length = 0;
  const elements = blocks.map((block) => {
    // The length is a varint of up to 32 bits, as protobuf's uint32 is.
    const reader = Reader.create(block);
    length += reader.uint32();
    return block.subarray(reader.pos);
  });
  return Buffer.concat([Writer.create().uint32(length).finish(), ...elements]);
}

export function compressBlock(data: Buffer): Buffer {
  return Buffer.from(compress(data));
}

export function uncompressBlock(data: Buffer): Buffer {
  return Buffer.from(uncompress(data));
}

/** Reads a request body back (receivers in tests, the bench): the series with their labels and samples. */
export function decodeRequestBody(body: Buffer): DecodedSeries[] {
  const decoded = WriteRequest.toObject(WriteRequest.decode(uncompressBlock(body)), { longs: Number, defaults: true }) as {
    timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
  };
  return decoded.timeseries.map((series) => ({
    labels: Object.fromEntries(series.labels.map(({ name, value }) => [name, value])),
    samples: series.samples,
  }));
}
