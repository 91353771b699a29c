// Mirrored copies that were never delivered, by mirror cluster and reason, with Envoy's response
// flags for the reason: NC (no such cluster), UH (no healthy endpoint), UF (connect failure), UO
// (circuit breaker overflow), UT (timeout), UC (the upstream reset or closed the stream). Exported
// on 15020 as envoy_cluster_upstream_rq_mirror_dropped{cluster_name,response_flags}, and logged as
// a warning at most once per cluster and reason every 10 s (with the count since the last line),
// so a route mirroring to a broken cluster cannot flood the log.
import type { Logger } from '@trellis/core';
import { esc } from '../upstream/cluster-stats.js';
import type { UpstreamFailure } from '../upstream/stream.js';

const LOG_EVERY_MS = 10_000;

export function mirrorFailureFlag(failure: UpstreamFailure): string {
  switch (failure) {
    case 'connect-failure':
      return 'UF';
    case 'overflow':
      return 'UO';
    case 'timeout':
      return 'UT';
    default:
      return 'UC';
  }
}

interface Entry {
  count: number;
  loggedAt: number;
  /** Drops since the last log line. */
  unlogged: number;
}

export class MirrorDrops {
  readonly #entries = new Map<string, Map<string, Entry>>();
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  /** Counts one copy to `cluster` that was dropped, and logs it (rate-limited). */
  dropped(cluster: string, flag: string, detail?: string): void {
    let byFlag = this.#entries.get(cluster);
    if (!byFlag) this.#entries.set(cluster, (byFlag = new Map()));
    let e = byFlag.get(flag);
    if (!e) byFlag.set(flag, (e = { count: 0, loggedAt: -Infinity, unlogged: 0 }));
    e.count++;
    e.unlogged++;
    const now = this.#now();
    if (now - e.loggedAt < LOG_EVERY_MS) {
      this.#log.debug({ cluster, flag, detail }, 'mirrored request dropped');
      return;
    }
    this.#log.warn(
      { cluster, flag, detail, dropped: e.unlogged },
      'mirrored request dropped (logged at most every 10 s per cluster and reason)',
    );
    e.loggedAt = now;
    e.unlogged = 0;
  }

  count(cluster: string, flag: string): number {
    return this.#entries.get(cluster)?.get(flag)?.count ?? 0;
  }

  /** Prometheus text. */
  text(): string {
    if (this.#entries.size === 0) return '';
    const out = ['# TYPE envoy_cluster_upstream_rq_mirror_dropped counter'];
    for (const [cluster, byFlag] of this.#entries)
      for (const [flag, e] of byFlag)
        out.push(
          `envoy_cluster_upstream_rq_mirror_dropped{cluster_name="${esc(cluster)}",response_flags="${flag}"} ${e.count}`,
        );
    return `${out.join('\n')}\n`;
  }
}
