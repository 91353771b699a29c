// What a client holds for one type URL: its subscription, the accepted resources, and the version
// and nonce of the last response. Changes are applied all at once, only if the handler takes them.
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '@trellis/api';
import { covers, type Subscription } from '../subscription.js';
import type { DecodedResource } from './decode.js';
import type { ResourceHandler } from './types.js';

export interface Held<T> {
  readonly value: T;
  readonly version: string;
}

export class TypeState<T> {
  // The accepted resources, changed in place once a response is accepted: a change costs what it
  // changes, not what is held. Snapshots of the values are built only when someone asks.
  private readonly accepted = new Map<string, Held<T>>();
  private snapshot: ReadonlyMap<string, T> | undefined;
  /** Version of the last accepted response. */
  version = '';
  /** Nonce of the last response received (accepted or not). */
  nonce = '';
  lastError: string | undefined;

  constructor(
    readonly typeUrl: string,
    readonly handler: ResourceHandler<T>,
    public subscription: Subscription,
  ) {}

  /** What is held now (a live view: read it, do not keep it). */
  get held(): ReadonlyMap<string, Held<T>> {
    return this.accepted;
  }

  /** The accepted values: a snapshot that later changes leave alone (built on first use after each change). */
  get values(): ReadonlyMap<string, T> {
    this.snapshot ??= new Map([...this.accepted].map(([name, h]) => [name, h.value]));
    return this.snapshot;
  }

  get sotwFullState(): boolean {
    return (
      this.handler.sotwFullState ??
      (this.typeUrl !== ROUTE_CONFIGURATION_TYPE_URL &&
        this.typeUrl !== CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)
    );
  }

  /**
   * Applies updates and removals through the handler. Returns the handler's reason if it refused
   * (then nothing changes, unless `force`), else undefined. The handler's `resources` (everything
   * held after the change) is built only if the handler reads it.
   */
  apply(
    updated: readonly DecodedResource<T>[],
    removed: readonly string[],
    version: string,
    force = false,
  ): string | undefined {
    const changed = new Map<string, T>();
    for (const r of updated) changed.set(r.name, r.value);
    let after: Map<string, T> | undefined;
    const resourcesAfter = (): ReadonlyMap<string, T> => {
      if (!after) {
        after = new Map(this.values);
        for (const [name, value] of changed) after.set(name, value);
        for (const name of removed) after.delete(name);
      }
      return after;
    };
    try {
      this.handler.onChange({
        typeUrl: this.typeUrl,
        version,
        updated: changed,
        removed,
        get resources() {
          return resourcesAfter();
        },
      });
    } catch (err) {
      if (!force) return err instanceof Error ? err.message : String(err);
    }
    for (const r of updated) this.accepted.set(r.name, { value: r.value, version: r.version });
    for (const name of removed) this.accepted.delete(name);
    this.snapshot = after;
    this.version = version;
    return undefined;
  }

  /** Drops held resources the subscription no longer covers, telling the handler. */
  prune(): void {
    const gone = [...this.held.keys()].filter((name) => !covers(this.subscription, name));
    if (gone.length > 0) this.apply([], gone, this.version, true);
  }

  /** name -> version of what is held, for initial_resource_versions. */
  versions(): Record<string, string> {
    return Object.fromEntries([...this.held].map(([name, h]) => [name, h.version]));
  }
}
