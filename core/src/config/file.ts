import { readFile } from 'node:fs/promises';
import { Document, isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';
import { ExporterError, describeError } from '../errors';
import { ChangedMeanwhileError, writeFileAtomic } from './atomic-write';

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

  /** The file's text, or undefined when it does not exist. */
  async readText(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ExporterError('EME_CONFIG_READ', `${this.path}: cannot read: ${describeError(error)}`);
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
   * A missing file is created with `seed` keys first (e.g. `new_metrics_default: true`).
   */
  setMetrics(changes: Readonly<Record<string, boolean>>, seed: Readonly<Record<string, unknown>> = {}): Promise<void> {
    return this.edit((document) => {
      if (!document.has('metrics') && document.has('enabled_metrics')) {
        const enabled = document.get('enabled_metrics', false) as { toJSON(): unknown } | undefined;
        const list = enabled?.toJSON();
        document.delete('enabled_metrics');
        document.set('metrics', document.createNode(Object.fromEntries((Array.isArray(list) ? list : []).map((name) => [String(name), true]))));
      }
      for (const [name, enabled] of Object.entries(changes)) document.setIn(['metrics', name], enabled);
    }, seed);
  }

  /**
   * Makes the file hold `config` (a config from the server), changing only the values that differ so that comments
   * on everything else stay; top-level keys in `keep` are left as the file has them.
   */
  replaceWith(config: Readonly<Record<string, unknown>>, keep: readonly string[]): Promise<void> {
    return this.edit((document) => {
      const contents = document.contents as YAMLMap;
      for (const pair of [...contents.items]) {
        const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
        if (!keep.includes(key) && !Object.hasOwn(config, key)) document.delete(key);
      }
      for (const [key, value] of Object.entries(config)) {
        if (!keep.includes(key)) updateIn(document, [key], value);
      }
    });
  }

  /** Applies `change` to the document and writes it, after every earlier change has been written. */
  edit(change: (document: Document) => void, seed: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const run = this.queue.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.editOnce(change, seed);
        } catch (error) {
          if (!(error instanceof ChangedMeanwhileError) || attempt === EDIT_ATTEMPTS) throw error;
        }
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async editOnce(change: (document: Document) => void, seed: Readonly<Record<string, unknown>>): Promise<void> {
    const text = await this.readText();
    const document = text === undefined || text.trim() === '' ? new Document({ ...seed }) : parseDocument(text);
    if (document.errors.length > 0) {
      throw new ExporterError(
        'EME_CONFIG_PARSE',
        `${this.path}: not changed, because the file is not valid YAML (${document.errors[0]!.message.split('\n')[0]}); fix the file first`,
      );
    }
    if (document.contents === null) document.contents = document.createNode({ ...seed }) as never;
    if (!isMap(document.contents)) {
      throw new ExporterError('EME_CONFIG_INVALID', `${this.path}: not changed, because the file is not a mapping of keys to values`);
    }
    change(document);
    const output = document.toString();
    try {
      await writeFileAtomic(this.path, output, async () => (await this.readText()) === text);
    } catch (error) {
      if (error instanceof ChangedMeanwhileError) throw error;
      throw new ExporterError('EME_CONFIG_WRITE', `${this.path}: cannot write the change: ${describeError(error)}; the file is unchanged`);
    }
    if (text === this.inForce) this.inForce = output;
  }
}

/** Sets `value` at `path`, descending into mappings so that untouched entries keep their comments. */
function updateIn(document: Document, path: readonly string[], value: unknown): void {
  const node = document.getIn(path, true);
  if (isPlainObject(value) && isMap(node)) {
    for (const pair of [...node.items]) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
      if (!Object.hasOwn(value, key)) document.deleteIn([...path, key]);
    }
    for (const [key, child] of Object.entries(value)) updateIn(document, [...path, key], child);
    return;
  }
  const current = document.getIn(path, false) as { toJSON?: () => unknown } | unknown;
  const currentValue = typeof (current as { toJSON?: unknown })?.toJSON === 'function' ? (current as { toJSON(): unknown }).toJSON() : current;
  if (JSON.stringify(currentValue) !== JSON.stringify(value)) document.setIn(path, document.createNode(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
