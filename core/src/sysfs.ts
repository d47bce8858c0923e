import { readdir, readFile } from 'node:fs/promises';

/**
 * Reading sysfs files for plugins: a file that cannot be read is a failure to report (with advice), never a throw,
 * so that one unplugged or root-only sensor does not hide the others.
 */

/** A file that was listed but could not be read, with the errno code (`EACCES`, `ENOENT`, `ENODATA`, ...). */
export interface ReadFailure {
  file: string;
  code: string;
}

/** A plugin's own advice for the failures every sysfs reader meets. */
export interface ReadFailureAdvice {
  /** Follows `cannot read <file>: permission denied; `, e.g. `skipping it. Run the exporter as root (see …)`. */
  permission: string;
  /** Why a listed file can vanish, e.g. `the sensor was unplugged or its driver unloaded`. */
  vanished: string;
  /** What any other errno means, e.g. `the sensor did not answer`; none when it means nothing in particular. */
  other?: string;
}

/** The file's text, or `undefined` with the failure added to `failures`. */
export function readSysfsFile(file: string, failures: ReadFailure[]): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    failures.push({ file, code: error.code ?? 'EIO' });
    return undefined;
  });
}

/** The entries of a sysfs directory; none when it does not exist (the driver is not loaded). */
export function listSysfsDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
}

export function isPermissionFailure(failure: ReadFailure): boolean {
  return failure.code === 'EACCES' || failure.code === 'EPERM';
}

/** What a file that could not be read means, and what to do, as one sentence. */
export function describeReadFailure(failure: ReadFailure, advice: ReadFailureAdvice): string {
  if (isPermissionFailure(failure)) return `cannot read ${failure.file}: permission denied; ${advice.permission}`;
  if (failure.code === 'ENOENT') return `${failure.file} vanished while it was read (${advice.vanished}); skipping it`;
  return `cannot read ${failure.file}: ${failure.code}${advice.other ? ` (${advice.other})` : ''}; skipping it`;
}
