// The server's metrics, with istiod's names so its dashboards work. The core exporter appends
// "_total" to every counter (Istio exports these without it), so the monotonic ones are
// up-down counters that only ever go up: same name and values, exported with TYPE gauge.
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';

export interface XdsMetrics {
  /** A response was written; `sinceMs` is when the oldest change it carries was published. */
  pushed(typeUrl: string, sinceMs: number | undefined): void;
  /** The client NACKed a response of this type. */
  rejected(typeUrl: string): void;
  /** A debounced batch of `size` updates was published. */
  debounced(size: number): void;
  /** Stops reporting the connection gauge. */
  stop(): void;
}

const SHORT: Record<string, string> = {
  [LISTENER_TYPE_URL]: 'lds',
  [ROUTE_CONFIGURATION_TYPE_URL]: 'rds',
  [CLUSTER_TYPE_URL]: 'cds',
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: 'eds',
};

/**
 * The `type` label: lds/rds/cds/eds, else the message name lowercased ("address",
 * "authorization"); `unknown` for a type URL outside `known` (the types the server has a generator
 * for), so that clients asking for made-up types cannot add label values.
 */
export function metricType(typeUrl: string, known?: ReadonlySet<string>): string {
  if (known && !known.has(typeUrl)) return 'unknown';
  return SHORT[typeUrl] ?? typeUrl.slice(typeUrl.lastIndexOf('.') + 1).toLowerCase();
}

/** `known`: the type URLs served; every other type is labelled `unknown`. */
export function xdsMetrics(
  meter: Meter,
  connections: () => number,
  known: ReadonlySet<string>,
): XdsMetrics {
  const label = new Map([...known].map((t) => [t, metricType(t)]));
  const typeOf = (typeUrl: string) => label.get(typeUrl) ?? 'unknown';
  const pushes = meter.createUpDownCounter('pilot_xds_pushes', {
    description: 'xDS responses sent, by type.',
  });
  const rejects = meter.createUpDownCounter('pilot_total_xds_rejects', {
    description: 'xDS responses the client rejected (NACK), by type.',
  });
  const convergence = meter.createHistogram('pilot_proxy_convergence_time', {
    description: 'Seconds from a published change to the response carrying it being written.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 3, 5, 10, 20, 30] },
  });
  const batch = meter.createHistogram('pilot_debounce_batch_size', {
    description: 'Updates merged into one published snapshot.',
    advice: { explicitBucketBoundaries: [1, 2, 5, 10, 20, 50, 100, 500] },
  });
  const connected = meter.createObservableGauge('pilot_xds', {
    description: 'Connected xDS streams.',
  });
  const observe = (result: ObservableResult<Attributes>) => result.observe(connections());
  connected.addCallback(observe);

  return {
    pushed(typeUrl, sinceMs) {
      const type = typeOf(typeUrl);
      pushes.add(1, { type });
      if (sinceMs !== undefined) convergence.record((performance.now() - sinceMs) / 1000, { type });
    },
    rejected: (typeUrl) => rejects.add(1, { type: typeOf(typeUrl) }),
    debounced: (size) => batch.record(size),
    stop: () => connected.removeCallback(observe),
  };
}
