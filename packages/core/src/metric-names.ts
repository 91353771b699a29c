// Metric names reach Prometheus exactly as written (prometheus-text.ts renders them), so dashboards
// built for Istio keep working, including Istio's counters without "_total". This module rejects,
// at creation, a name Prometheus cannot carry.
import type { Meter, MetricOptions } from '@opentelemetry/api';

export type InstrumentKind =
  'counter' | 'observable-counter' | 'up-down-counter' | 'gauge' | 'histogram';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws an Error saying why Prometheus cannot carry `name`, if it cannot. */
export function checkMetricName(name: string, kind: InstrumentKind): void {
  if (!NAME.test(name)) {
    throw new Error(
      `${kind} name ${JSON.stringify(name)}: use only letters, digits and '_', not starting with a digit`,
    );
  }
  if (name.startsWith('__')) {
    throw new Error(`${kind} name ${JSON.stringify(name)}: names starting with "__" are reserved`);
  }
}

/** Wraps a Meter so every instrument name is checked before it is created. */
export function checkedMeter(meter: Meter): Meter {
  const check = (name: string, kind: InstrumentKind, options?: MetricOptions) => {
    checkMetricName(name, kind);
    return [name, options] as const;
  };
  return {
    createCounter: (name, options) => meter.createCounter(...check(name, 'counter', options)),
    createObservableCounter: (name, options) =>
      meter.createObservableCounter(...check(name, 'observable-counter', options)),
    createUpDownCounter: (name, options) =>
      meter.createUpDownCounter(...check(name, 'up-down-counter', options)),
    createObservableUpDownCounter: (name, options) =>
      meter.createObservableUpDownCounter(...check(name, 'up-down-counter', options)),
    createGauge: (name, options) => meter.createGauge(...check(name, 'gauge', options)),
    createObservableGauge: (name, options) =>
      meter.createObservableGauge(...check(name, 'gauge', options)),
    createHistogram: (name, options) => meter.createHistogram(...check(name, 'histogram', options)),
    addBatchObservableCallback: (callback, observables) =>
      meter.addBatchObservableCallback(callback, observables),
    removeBatchObservableCallback: (callback, observables) =>
      meter.removeBatchObservableCallback(callback, observables),
  };
}
