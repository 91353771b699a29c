// Monotonic counters that share one label set per series, for metrics bumped per connection or
// request (Istio's istio_tcp_* family). OpenTelemetry's Counter.add sorts and hashes every label
// on every call; here a labels object is resolved to its series once (a key of its sorted labels,
// remembered per object), later adds with the same object cost a WeakMap lookup, and the values
// reach the registry as observable counters when it is scraped. A counter never added to for a
// label set exports no series for it, as with Counter.
import type { Attributes, Meter } from '@opentelemetry/api';

/** What a proxy needs of a counter: add to the series of a label set. */
export interface LabelledCounter {
  add(value: number, labels: Attributes): void;
}

/** One counter: the field it is returned under, its metric name and help text. */
export type CounterDef<F extends string> = readonly [field: F, name: string, description: string];

interface Series {
  readonly labels: Attributes;
  /** One value per counter, undefined until that counter is first added to. */
  readonly values: (number | undefined)[];
}

export function createCounterSet<F extends string>(
  meter: Meter,
  defs: readonly CounterDef<F>[],
): Record<F, LabelledCounter> {
  const byKey = new Map<string, Series>();
  const byObject = new WeakMap<Attributes, Series>();
  const seriesOf = (labels: Attributes): Series => {
    let s = byObject.get(labels);
    if (s) return s;
    let key = '';
    for (const name of Object.keys(labels).sort())
      key += `${name}\u0000${String(labels[name])}\u0000`;
    s = byKey.get(key);
    if (!s) {
      s = { labels: { ...labels }, values: [] };
      byKey.set(key, s);
    }
    byObject.set(labels, s);
    return s;
  };
  const out = {} as Record<F, LabelledCounter>;
  defs.forEach(([field, name, description], i) => {
    meter.createObservableCounter(name, { description }).addCallback((result) => {
      for (const s of byKey.values()) {
        const v = s.values[i];
        if (v !== undefined) result.observe(v, s.labels);
      }
    });
    out[field] = {
      add(value, labels) {
        const s = seriesOf(labels);
        s.values[i] = (s.values[i] ?? 0) + value;
      },
    };
  });
  return out;
}
