import { Root } from 'protobufjs/light';
import { compress, uncompress } from 'snappyjs';
import type { ExpositionFamily } from '../metrics/exposition';

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

export interface DecodedSeries {
  labels: Record<string, string>;
  samples: Array<{ value: number; timestamp: number }>;
}

/**
 * One cycle's samples as an uncompressed `WriteRequest`: every sample a series of its own, its labels those of
 * `/metrics` plus `identity` (a label the sample already carries wins) and `__name__`, sorted by name as receivers
 * require. Encoded `WriteRequest`s concatenate into one holding all their series (protobuf appends repeated fields),
 * which is how the sender batches cycles.
 */
export function encodeCycle(families: readonly ExpositionFamily[], timestampMs: number, identity: ReadonlyArray<readonly [string, string]>): Buffer {
  const timeseries = [];
  for (const family of families) {
    for (const sample of family.samples) {
      // Arrays rather than a Map: this runs for every series of every cycle.
      const labels: Array<readonly [string, string]> = identity.filter(([name]) => !sample.labels.some(([own]) => own === name));
      labels.push(...sample.labels, ['__name__', sample.name]);
      labels.sort(byName);
      timeseries.push({ labels: labels.map(([name, value]) => ({ name, value })), samples: [{ value: sample.value, timestamp: timestampMs }] });
    }
  }
  return Buffer.from(WriteRequest.encode({ timeseries }).finish());
}

function byName([a]: readonly [string, string], [b]: readonly [string, string]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A request body: the concatenated `WriteRequest`s as one snappy block. */
export function requestBody(writeRequests: readonly Buffer[]): Buffer {
  return compressBlock(writeRequests.length === 1 ? writeRequests[0]! : Buffer.concat(writeRequests));
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
