// The push queue: connections with work waiting, each at most once, served in arrival order. One
// connection is served per turn of the event loop, so a push to thousands of proxies never starves
// request handling, and a connection enqueued again while waiting is not served twice.

export interface PushQueue<K> {
  enqueue(key: K): void;
  /** Keys waiting to be served. */
  readonly size: number;
  /** Drops everything waiting and serves nothing more. */
  stop(): void;
}

export function pushQueue<K>(serve: (key: K) => void): PushQueue<K> {
  const waiting = new Set<K>();
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;

  const turn = () => {
    scheduled = undefined;
    const next = waiting.values().next();
    if (next.done) return;
    waiting.delete(next.value);
    if (waiting.size > 0) scheduled = setImmediate(turn);
    serve(next.value);
  };

  return {
    enqueue(key) {
      if (stopped) return;
      waiting.add(key);
      scheduled ??= setImmediate(turn);
    },
    get size() {
      return waiting.size;
    },
    stop() {
      stopped = true;
      waiting.clear();
      if (scheduled) clearImmediate(scheduled);
      scheduled = undefined;
    },
  };
}
