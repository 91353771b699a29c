// Remote JWKS: fetched on first use, cached for the provider's cache_duration, refreshed in the
// background before they expire, refetched at most once a second after a failure. A request never
// passes because keys are missing: without keys it gets 401 "Jwks remote fetch is failed".
import type { Logger } from '@trellis/core';
import { parseJwks } from './jwks.pure.js';
import { keySet, type KeySet } from './verify.js';

const MAX_JWKS_BYTES = 1024 * 1024;
const RETRY_AFTER_FAILURE_MS = 1_000;

export class JwksFetchError extends Error {}

interface Entry {
  keys?: KeySet;
  expiresAt: number;
  refreshAt: number;
  inflight?: Promise<KeySet>;
  failedAt?: number;
  lastError?: string;
}

export type JwksFetch = (uri: string, timeoutMs: number) => Promise<string>;

/** Fetches with node's fetch; refuses non-2xx answers and bodies over 1 MiB. */
export const httpFetch: JwksFetch = async (uri, timeoutMs) => {
  const res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok) throw new JwksFetchError(`${uri} answered ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_JWKS_BYTES) throw new JwksFetchError(`${uri} returned more than 1 MiB`);
  return text;
};

export class JwksCache {
  readonly #entries = new Map<string, Entry>();
  readonly #fetch: JwksFetch;
  readonly #log: Logger | undefined;
  readonly #now: () => number;

  constructor(o: { fetch?: JwksFetch; logger?: Logger; now?: () => number } = {}) {
    this.#fetch = o.fetch ?? httpFetch;
    this.#log = o.logger;
    this.#now = o.now ?? Date.now;
  }

  /** Current keys (synchronously when cached), a pending fetch, or a JwksFetchError. */
  get(uri: string, timeoutMs: number, cacheMs: number): KeySet | Promise<KeySet> {
    const now = this.#now();
    let e = this.#entries.get(uri);
    if (!e) {
      e = { expiresAt: 0, refreshAt: 0 };
      this.#entries.set(uri, e);
    }
    if (e.keys && now < e.expiresAt) {
      if (now >= e.refreshAt && !e.inflight && !this.#backingOff(e, now))
        this.#start(uri, e, timeoutMs, cacheMs).catch(() => undefined);
      return e.keys;
    }
    e.keys = undefined;
    if (e.inflight) return e.inflight;
    if (this.#backingOff(e, now))
      return Promise.reject(new JwksFetchError(e.lastError ?? 'JWKS fetch failed'));
    return this.#start(uri, e, timeoutMs, cacheMs);
  }

  /** For the admin dump: each URI, whether keys are held and the last error. */
  status(): { uri: string; keys: number; expiresAt?: string; lastError?: string }[] {
    return [...this.#entries].map(([uri, e]) => ({
      uri,
      keys: e.keys?.keys.length ?? 0,
      ...(e.keys ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}),
      ...(e.lastError ? { lastError: e.lastError } : {}),
    }));
  }

  #backingOff(e: Entry, now: number): boolean {
    return e.failedAt !== undefined && now - e.failedAt < RETRY_AFTER_FAILURE_MS;
  }

  #start(uri: string, e: Entry, timeoutMs: number, cacheMs: number): Promise<KeySet> {
    const p = this.#fetch(uri, timeoutMs).then(
      (text) => {
        const parsed = parseJwks(text);
        if (!parsed.ok) throw new JwksFetchError(`${uri}: ${parsed.reason}`);
        const keys = keySet(parsed.keys);
        const now = this.#now();
        e.keys = keys;
        e.expiresAt = now + cacheMs;
        e.refreshAt = now + cacheMs * 0.8;
        e.failedAt = undefined;
        e.lastError = undefined;
        e.inflight = undefined;
        return keys;
      },
      (err: Error) => {
        e.inflight = undefined;
        e.failedAt = this.#now();
        e.lastError = `${uri}: ${err.message}`;
        this.#log?.warn({ uri, err: err.message }, 'JWKS fetch failed');
        throw err instanceof JwksFetchError ? err : new JwksFetchError(e.lastError);
      },
    );
    e.inflight = p;
    return p;
  }
}
