// Waiting on the event loop until a file descriptor is writable (a non-blocking connect is done).
import { addon } from './addon.js';

/** Resolves once `fd` is writable or has an error pending; rejects when `signal` aborts. */
export function whenWritable(fd: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      finish();
      reject(signal?.reason);
    };
    const finish = () => {
      watcher.close();
      signal?.removeEventListener('abort', onAbort);
    };
    const watcher = new (addon().FdWatcher)(fd, () => {
      finish();
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    watcher.start(false, true);
  });
}
