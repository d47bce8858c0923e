import { constants, renameSync } from 'node:fs';
import { access, open, readlink, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

let sequence = 0;

/** Thrown when `stillCurrent` says the file changed while the new text was being written. */
export class ChangedMeanwhileError extends Error {}

/**
 * Replaces `path` (the file it names, when it is a symlink) with `text` so that a reader, a crash or a full disk
 * never leaves a truncated file: write a temporary file beside it, fsync, rename over the original, fsync the
 * folder. On failure the original stays.
 * The new file keeps the original's mode (and owner, when root writes), and a file that may not be written (no
 * write permission for this user, or no write bit at all: someone froze it) is refused rather than replaced.
 * `stillCurrent`, checked just before the rename, lets the caller give up (ChangedMeanwhileError) when someone
 * else changed the file since it was read, instead of overwriting their edit. It is synchronous, and so is the
 * rename after it, so that nothing else this process does can come between the two.
 */
export async function writeFileAtomic(linkOrPath: string, text: string, stillCurrent: () => boolean = () => true): Promise<void> {
  // Through a symlink to the file it names, as editors do: a rename onto the link would replace it.
  const path = await linkTarget(linkOrPath);
  const original = await stat(path).catch(() => undefined);
  if (original) {
    if ((original.mode & 0o222) === 0) throw new Error(`the file is read-only (mode ${(original.mode & 0o777).toString(8)})`);
    await access(path, constants.W_OK);
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${++sequence}.tmp`);
  try {
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(text, 'utf8');
      await file.chmod(original ? original.mode & 0o777 : 0o644);
      if (original && process.geteuid?.() === 0) await file.chown(original.uid, original.gid);
      await file.sync();
    } finally {
      await file.close();
    }
    if (!stillCurrent()) throw new ChangedMeanwhileError(`${path} changed while it was being written`);
    renameSync(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

const MAX_LINK_HOPS = 40;

/** The file that `path` names through any symlinks (it may not exist yet), or `path` itself when it is no link. */
export async function linkTarget(path: string): Promise<string> {
  for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
    const link = await readlink(path).catch(() => undefined);
    if (link === undefined) return path;
    path = resolve(dirname(path), link);
  }
  throw new Error(`${path}: too many levels of symbolic links`);
}

/** The temporary files `writeFileAtomic` makes beside `path`, with the id of the process that made each. */
export const TEMPORARY_NAME = (path: string) => new RegExp(`^\\.${escape(basename(path))}\\.(\\d+)\\.\\d+\\.tmp$`);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
