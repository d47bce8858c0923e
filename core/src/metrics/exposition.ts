/**
 * Renders metric families in the Prometheus text format (0.0.4) and in OpenMetrics 1.0, at most once per collection
 * cycle and format: every other scrape of the cycle serves the cached bytes.
 */


export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionType = 'gauge' | 'counter' | 'histogram' | 'summary' | 'untyped';

export interface ExpositionSample {
  /** The full sample name, e.g. `x_total` or `x_bucket`. */
  name: string;
  /** Label pairs in output order; values are raw (escaped here). */
  labels: ReadonlyArray<readonly [string, string]>;
  value: number;
}

export interface ExpositionFamily {
  name: string;
  help: string;
  type: ExpositionType;
  samples: ExpositionSample[];
}

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** How the bytes of a scrape are sent: as they are, or gzip-compressed. */
export type ContentEncoding = 'identity' | 'gzip';

/** Picks the format a scraper asked for in its `Accept` header. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'prometheus';
}

/** `gzip` when a scraper's `Accept-Encoding` header takes it (`gzip` or `*`, unless with `q=0`). */
export function negotiateEncoding(acceptEncoding: string | undefined): ContentEncoding {
  if (acceptEncoding === undefined) return 'identity';
  const gzip = acceptEncoding.split(',').some((entry) => {
    const [coding, ...parameters] = entry.split(';').map((part) => part.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') return false;
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  });
  return gzip ? 'gzip' : 'identity';
}

export function render(families: readonly ExpositionFamily[], format: ExpositionFormat): string {
  const openMetrics = format === 'openmetrics';
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    // OpenMetrics names a counter family without its `_total` suffix; its samples keep it.
    const name = openMetrics && family.type === 'counter' ? family.name.replace(/_total$/, '') : family.name;
    const type = openMetrics && family.type === 'untyped' ? 'unknown' : family.type;
    lines.push(`# HELP ${name} ${escapeHelp(family.help, openMetrics)}`, `# TYPE ${name} ${type}`);
    for (const sample of family.samples) {
      lines.push(`${sample.name}${renderLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  if (openMetrics) lines.push('# EOF');
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function renderLabels(labels: ExpositionSample['labels']): string {
  if (labels.length === 0) return '';
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const [name, value] = labels[i]!;
    out += `${i === 0 ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  return out + '}';
}

function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value;
}

function escapeHelp(help: string, openMetrics: boolean): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? escaped.replace(/"/g, '\\"') : escaped;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Families gathered when the exposition is first read rather than when the cycle ends (the self-metrics). */
export type LateFamilies = () => Promise<readonly ExpositionFamily[]>;

const NO_LATE_FAMILIES: LateFamilies = async () => [];

/** gzip, with node:zlib loaded on the first compression: an exporter nobody scrapes with gzip never loads it. */
function gzip(bytes: Buffer): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (require('node:zlib') as typeof import('node:zlib')).gzipSync(bytes);
}

/**
 * The exposition of the last cycle in each format and encoding, made on first request: a cycle's late families are
 * gathered once, on the first read after the cycle, then rendered, encoded and (on the first request that takes
 * gzip) compressed once, so that every scrape of a cycle sends the same bytes without doing any of that again. An
 * exporter nobody scrapes gathers, renders and compresses nothing.
 */
export class ExpositionCache {
  private current: CycleExposition;

  /** `compress` is a seam for tests that count compressions. */
  constructor(private readonly compress: (bytes: Buffer) => Buffer = gzip) {
    this.current = new CycleExposition([], NO_LATE_FAMILIES, compress);
  }

  /** A new cycle's families; `gatherLate`'s are added after them on the first read. */
  update(families: readonly ExpositionFamily[], gatherLate: LateFamilies = NO_LATE_FAMILIES): void {
    this.current = new CycleExposition(families, gatherLate, this.compress);
  }

  bytes(format: ExpositionFormat, encoding: ContentEncoding = 'identity'): Promise<Buffer> {
    return this.current.bytes(format, encoding);
  }

  async text(format: ExpositionFormat): Promise<string> {
    return (await this.bytes(format)).toString('utf8');
  }
}

/** One cycle's exposition: a read that spans the next update still gets this cycle's bytes. */
class CycleExposition {
  private all: Promise<readonly ExpositionFamily[]> | undefined;
  private readonly encoded = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly families: readonly ExpositionFamily[],
    private readonly gatherLate: LateFamilies,
    private readonly compress: (bytes: Buffer) => Buffer,
  ) {}

  bytes(format: ExpositionFormat, encoding: ContentEncoding): Promise<Buffer> {
    const key = `${format} ${encoding}`;
    let bytes = this.encoded.get(key);
    if (bytes === undefined) {
      bytes =
        encoding === 'gzip'
          ? this.bytes(format, 'identity').then((plain) => this.compress(plain))
          : this.allFamilies().then((families) => Buffer.from(render(families, format), 'utf8'));
      this.encoded.set(key, bytes);
    }
    return bytes;
  }

  private allFamilies(): Promise<readonly ExpositionFamily[]> {
    this.all ??= this.gatherLate().then((late) => (late.length === 0 ? this.families : [...this.families, ...late]));
    return this.all;
  }
}
