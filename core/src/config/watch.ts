import { dirname } from 'node:path';
import { watch } from 'chokidar';

/**
 * Calls `onChange` when the file at `path` is created, changed or replaced (editors often write a new file and
 * rename it over the old), once per burst of events, and only once its size has stopped changing: an editor
 * that truncates and rewrites in place must not have its half-written file loaded.
 */
export function watchFile(path: string, onChange: () => void, debounceMs = 100): { close(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  // The folder is watched, not the file: a file replaced by a rename is a new inode that a watch on the old one misses.
  const folder = dirname(path);
  const watcher = watch(folder, {
    ignoreInitial: true,
    depth: 0,
    ignored: (candidate) => candidate !== folder && candidate !== path,
    awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
  });
  watcher.on('all', () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  return {
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
