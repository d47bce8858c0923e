import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A file tree in a temporary folder, for tests of plugins that read through a root option (`sysfs_root`,
 * `proc_root`): copied from a fixture folder laid out as a real device lays it out, then changed by the test.
 */
export class FixtureTree {
  private constructor(
    private readonly dir: string,
    /** The tree's root: pass it as the plugin's root option. */
    readonly root: string,
  ) {}

  /** A copy of `fixture` (a folder), or an empty tree. */
  static async create(fixture?: string): Promise<FixtureTree> {
    const dir = await mkdtemp(join(tmpdir(), 'edge-metrics-tree-'));
    await chmod(dir, 0o755);
    const root = join(dir, 'root');
    if (fixture) await cp(fixture, root, { recursive: true });
    else await mkdir(root);
    return new FixtureTree(dir, root);
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

  /** Makes a file unreadable to anyone but root (see `asUnprivileged`). */
  forbid(relative: string): Promise<void> {
    return chmod(this.path(relative), 0o000);
  }

  dispose(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `work` with the file modes in force. Root reads any file whatever its mode, so when the tests run as root
 * the work runs as the effective user `nobody`, and the kernel answers EACCES as it does for an exporter that
 * runs as an ordinary user.
 */
export async function asUnprivileged<T>(work: () => Promise<T>): Promise<T> {
  if (process.geteuid?.() !== 0) return work();
  process.seteuid!(65534);
  try {
    return await work();
  } finally {
    process.seteuid!(0);
  }
}
