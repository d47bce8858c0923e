import { watch } from 'chokidar';

/**
 * Calls `onChange` when the file at `path` is created, changed or replaced (editors often write a new file and
 * rename it over the old), once per burst of events.
 */
export function watchFile(path: string, onChange: () => void, debounceMs = 150): { close(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path, { ignoreInitial: true, atomic: true });
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
