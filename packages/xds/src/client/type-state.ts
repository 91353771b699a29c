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
  held: ReadonlyMap<string, Held<T>> = new Map();
  values: ReadonlyMap<string, T> = new Map();
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

  get sotwFullState(): boolean {
    return (
      this.handler.sotwFullState ??
      (this.typeUrl !== ROUTE_CONFIGURATION_TYPE_URL &&
        this.typeUrl !== CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)
    );
  }

  /**
   * Applies updates and removals through the handler. Returns the handler's reason if it refused
   * (then nothing changes, unless `force`), else undefined.
   */
  apply(
    updated: readonly DecodedResource<T>[],
    removed: readonly string[],
    version: string,
    force = false,
  ): string | undefined {
    const held = new Map(this.held);
    const changed = new Map<string, T>();
    for (const r of updated) {
      held.set(r.name, { value: r.value, version: r.version });
      changed.set(r.name, r.value);
    }
    for (const name of removed) held.delete(name);
    const values = new Map([...held].map(([name, h]) => [name, h.value]));
    try {
      this.handler.onChange({
        typeUrl: this.typeUrl,
        version,
        updated: changed,
        removed,
        resources: values,
      });
    } catch (err) {
      if (!force) return err instanceof Error ? err.message : String(err);
    }
    this.held = held;
    this.values = values;
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
