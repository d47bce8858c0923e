import { watch } from 'chokidar';

/**
 * Calls `onChange` when the file at `path` is created, changed or replaced (editors often write a new file and
 * rename it over the old), once per burst of events, and only once its size has stopped changing: an editor
 * that truncates and rewrites in place must not have its half-written file loaded.
 */
export function watchFile(path: string, onChange: () => void, debounceMs = 100): { close(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path, { ignoreInitial: true, atomic: true, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
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
