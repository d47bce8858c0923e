import { readFileSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Document, isMap, isNode, isScalar, YAMLMap, type Pair } from 'yaml';
import { ExporterError, describeError } from '../errors';
import { ChangedMeanwhileError, TEMPORARY_NAME, linkTarget, writeFileAtomic } from './atomic-write';
import { MAX_CONFIG_BYTES, sizeProblems } from './limits';
import { parseYamlDocument, type YamlProblem } from './yaml';

/** How often an edit is retried when the file keeps changing under it. */
const EDIT_ATTEMPTS = 5;

/**
 * The config file on disk, edited in place: every change re-reads the file, edits the YAML document (so the
 * user's comments and key order stay) and replaces it atomically. Changes are serialized, so concurrent API
 * calls never lose each other's edits.
 */
export class ConfigFile {
  private queue: Promise<unknown> = Promise.resolve();
  /** The text whose content the config in force reflects: the last one applied, or written over one applied. */
  private inForce: string | undefined;

  constructor(readonly path: string) {}

  /** The file's text, or undefined when it does not exist; refused when larger than a config may be. */
  async readText(): Promise<string | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ExporterError('EME_CONFIG_READ', `${this.path}: cannot read: ${describeError(error)}`);
    }
    checkConfigSize(this.path, bytes.length);
    return bytes.toString('utf8');
  }

  private readTextNow(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Removes the temporary files that a process which died while writing left beside the file. */
  async removeStaleTemporaries(): Promise<void> {
    const target = await linkTarget(this.path);
    const pattern = TEMPORARY_NAME(target);
    const entries = await readdir(dirname(target)).catch(() => [] as string[]);
    for (const entry of entries) {
      const pid = Number(pattern.exec(entry)?.[1]);
      if (pid > 0 && pid !== process.pid && !isAlive(pid)) await unlink(join(dirname(target), entry)).catch(() => undefined);
    }
  }

  /** Resolves when every change asked for so far has been written or has failed. */
  async idle(): Promise<void> {
    await this.queue;
  }

  /** Records that the config in force was read from `text`. */
  noteApplied(text: string | undefined): void {
    this.inForce = text;
  }

  /**
   * True when `text` holds nothing the config in force lacks: what was applied, or this process's own write
   * over it. A write over a file that someone else had edited meanwhile is not in force: it must be reloaded.
   */
  isInForce(text: string | undefined): boolean {
    return text !== undefined && text === this.inForce;
  }

  /**
   * Sets `metrics.<name>` for each change (converting an old `enabled_metrics` list into the map on the way).
   * A missing file is created from the text in force, else with `seed` keys first (e.g. `new_metrics_default: true`).
   */
  setMetrics(changes: Readonly<Record<string, boolean>>, seed: Readonly<Record<string, unknown>> = {}): Promise<void> {
    return this.edit((document) => {
      if (!document.has('metrics') && document.has('enabled_metrics')) {
        const enabled = document.get('enabled_metrics', false) as { toJSON(): unknown } | undefined;
        const list = enabled?.toJSON();
        document.delete('enabled_metrics');
        document.set('metrics', document.createNode(Object.fromEntries((Array.isArray(list) ? list : []).map((name) => [String(name), true]))));
      }
      if (!document.has('metrics')) document.set('metrics', new YAMLMap());
      const metrics = document.get('metrics', true);
      if (!isMap(metrics)) throw new ExporterError('EME_CONFIG_INVALID', `${this.path}: not changed, because metrics is not a mapping of names to true/false`);
      setPairs(document, metrics, Object.entries(changes));
    }, seed);
  }

  /**
   * Makes the file hold `config` (a config from the server), changing only the values that differ so that comments
   * on everything else stay; top-level keys in `keep` are left as the file has them.
   */
  replaceWith(config: Readonly<Record<string, unknown>>, keep: readonly string[]): Promise<void> {
    return this.edit((document) => updateMap(document, document.contents as YAMLMap, config, keep));
  }

  /** Applies `change` to the document and writes it, after every earlier change has been written. */
  edit(change: (document: Document) => void, seed: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const run = this.queue.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.editOnce(change, seed);
        } catch (error) {
          if (!(error instanceof ChangedMeanwhileError)) throw error;
          if (attempt === EDIT_ATTEMPTS) {
            throw new ExporterError('EME_CONFIG_CONFLICT', `${this.path}: not changed, because the file kept changing while the change was being written; try again`);
          }
        }
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async editOnce(change: (document: Document) => void, seed: Readonly<Record<string, unknown>>): Promise<void> {
    const onDisk = await this.readText();
    // A file removed under a config in force is written back from that config, never recreated from the seed alone.
    const text = onDisk ?? this.inForce;
    if (text !== undefined && text.trim() === '') {
      throw new ExporterError('EME_CONFIG_PARSE', `${this.path}: not changed, because the file is empty (still being written?); give it at least one key`);
    }
    const { document, problem }: { document: Document; problem?: YamlProblem } =
      text === undefined ? { document: new Document({ ...seed }) } : parseYamlDocument(text);
    if (problem) {
      const { line, col, message } = problem;
      throw new ExporterError(
        'EME_CONFIG_PARSE',
        `${this.path}: not changed, because the file is not valid YAML (${line ? `line ${line}, column ${col}: ` : ''}${message}); fix the file first`,
      );
    }
    if (document.contents === null) document.contents = document.createNode({ ...seed }) as never;
    if (!isMap(document.contents)) {
      throw new ExporterError('EME_CONFIG_INVALID', `${this.path}: not changed, because the file is not a mapping of keys to values`);
    }
    change(document);
    const tooLarge = sizeProblems(document.toJS());
    if (tooLarge.length > 0) throw new ExporterError('EME_CONFIG_TOO_LARGE', `${this.path}: not changed, because the config would exceed a limit: ${tooLarge.join('; ')}`);
    // No block scalars: yaml writes a value such as " \n" as one that reads back as "\n"; quoted strings round-trip.
    const output = keepCommentColumns(text, document.toString({ blockQuote: false }), document);
    if (Buffer.byteLength(output) > MAX_CONFIG_BYTES) {
      throw new ExporterError('EME_CONFIG_TOO_LARGE', `${this.path}: not changed, because the file would be larger than the limit of ${MAX_CONFIG_BYTES} bytes`);
    }
    try {
      await writeFileAtomic(this.path, output, () => this.readTextNow() === onDisk);
    } catch (error) {
      if (error instanceof ChangedMeanwhileError) throw error;
      throw new ExporterError('EME_CONFIG_WRITE', `${this.path}: cannot write the change: ${describeError(error)}; the file is unchanged`);
    }
    if (text === this.inForce) this.inForce = output;
  }
}

/** Refuses a config file larger than MAX_CONFIG_BYTES before it is parsed. */
export function checkConfigSize(path: string, bytes: number): void {
  if (bytes > MAX_CONFIG_BYTES) {
    throw new ExporterError('EME_CONFIG_TOO_LARGE', `${path}: the file is ${bytes} bytes, more than the limit of ${MAX_CONFIG_BYTES} bytes for a config`);
  }
}

/** A line with an inline comment: its content, the spaces before the comment, the comment. */
const INLINE_COMMENT = /^(.*?\S)( +)(#.*)$/;

/**
 * yaml writes one space before an inline comment: puts each such comment back in the column it had in `before` on
 * the line of the same key (or item) with the same comment, so that the user's alignment stays. Should a `#` inside
 * a quoted string have been taken for a comment, the content would change: then `after` is kept as yaml wrote it.
 */
function keepCommentColumns(before: string | undefined, after: string, document: Document): string {
  const lineKey = (content: string, comment: string) => `${content.replace(/^(\s*[^:]*?:)\s.*$/, '$1')}\0${comment}`;
  const columns = new Map<string, number>();
  for (const line of before?.split('\n') ?? []) {
    const match = INLINE_COMMENT.exec(line);
    if (match) columns.set(lineKey(match[1]!, match[3]!), match[1]!.length + match[2]!.length);
  }
  if (columns.size === 0) return after;
  const adjusted = after
    .split('\n')
    .map((line) => {
      const match = INLINE_COMMENT.exec(line);
      const column = match && columns.get(lineKey(match[1]!, match[3]!));
      return match && column ? `${match[1]}${' '.repeat(Math.max(1, column - match[1]!.length))}${match[3]}` : line;
    })
    .join('\n');
  if (adjusted === after) return after;
  const same = JSON.stringify(parseYamlDocument(adjusted).document.toJS()) === JSON.stringify(document.toJS());
  return same ? adjusted : after;
}

/**
 * Makes `map` hold `value`'s entries (but for the keys in `keep`, left as they are), descending into mappings and
 * changing only what differs, so that untouched entries keep their comments. One index of the keys keeps it linear.
 */
function updateMap(document: Document, map: YAMLMap, value: Readonly<Record<string, unknown>>, keep: readonly string[] = []): void {
  map.items = map.items.filter((pair) => keep.includes(keyName(pair)) || Object.hasOwn(value, keyName(pair)));
  const pairs = new Map(map.items.map((pair) => [keyName(pair), pair]));
  for (const [key, child] of Object.entries(value)) {
    const pair = pairs.get(key);
    if (keep.includes(key)) {
      continue;
    } else if (pair === undefined) {
      map.items.push(document.createPair(key, child));
    } else if (isPlainObject(child) && isMap(pair.value)) {
      updateMap(document, pair.value, child);
    } else if (JSON.stringify(isNode(pair.value) ? pair.value.toJSON() : pair.value) !== JSON.stringify(child)) {
      setValue(document, pair, child);
    }
  }
}

/**
 * Sets each `key: value` in `map`, a scalar in place so that its comment stays. yaml's `setIn` searches the whole
 * mapping for every key, which makes a large change quadratic; one index of the keys keeps it linear.
 */
function setPairs(document: Document, map: YAMLMap, entries: ReadonlyArray<readonly [string, unknown]>): void {
  const pairs = new Map(map.items.map((pair) => [keyName(pair), pair]));
  for (const [key, value] of entries) {
    const pair = pairs.get(key);
    if (pair === undefined) {
      const created = document.createPair(key, value);
      map.items.push(created);
      pairs.set(key, created);
    } else {
      setValue(document, pair, value);
    }
  }
}

/** A scalar replaced by one of the same type is changed in place, so that the comment beside it stays. */
function setValue(document: Document, pair: Pair, value: unknown): void {
  // Of the same type only: a quoted "5" given the number 6 in place would be written "6", a string again.
  if (isScalar(pair.value) && pair.value.value !== null && typeof pair.value.value === typeof value && typeof value !== 'object') pair.value.value = value;
  else pair.value = document.createNode(value);
}

function keyName(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
