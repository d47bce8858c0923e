import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLogger, type CollectorContext } from '@edge-metrics/core';

export const fixtures = join(__dirname, 'fixtures');

/** A sysfs tree in a temporary folder, copied from `test/fixtures/<name>/sys`. */
export class SysfsTree {
  private constructor(
    private readonly dir: string,
    readonly root: string,
  ) {}

  static async fromFixture(name?: string): Promise<SysfsTree> {
    const dir = await mkdtemp(join(tmpdir(), 'sysfs-'));
    await chmod(dir, 0o755);
    const root = join(dir, 'sys');
    if (name) await cp(join(fixtures, name, 'sys'), root, { recursive: true });
    return new SysfsTree(dir, root);
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  read(relative: string): Promise<string> {
    return readFile(this.path(relative), 'utf8');
  }

  async write(relative: string, text: string): Promise<void> {
    await mkdir(dirname(this.path(relative)), { recursive: true });
    await writeFile(this.path(relative), text);
  }

  remove(relative: string): Promise<void> {
    return unlink(this.path(relative));
  }

  copy(from: string, to: string): Promise<void> {
    return cp(this.path(from), this.path(to), { recursive: true });
  }

  /** Links `relative` to `target`, as the kernel links a hwmon chip to its `device`. */
  link(target: string, relative: string): Promise<void> {
    return symlink(target, this.path(relative));
  }

  forbid(relative: string): Promise<void> {
    return chmod(this.path(relative), 0o000);
  }

  dispose(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `read` with the file modes in force. Root reads any file whatever its mode, so when the tests run as
 * root the read runs with the effective user `nobody`, and the kernel answers EACCES as it does for the
 * exporter's user on a real machine.
 */
export async function asUnprivileged<T>(read: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) return read();
  process.seteuid!(65534);
  try {
    return await read();
  } finally {
    process.seteuid!(0);
  }
}

export function testContext(logs: string[]): CollectorContext {
  return { deviceType: 'orangepi', collectorName: 'sysfs', interval: 1, logger: createLogger('debug', (line) => logs.push(line), 'sysfs') };
}
