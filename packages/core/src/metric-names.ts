// Metric names must reach Prometheus exactly as written, so dashboards built for Istio keep
// working. The 0.223.0 Prometheus exporter rewrites some names: it replaces characters outside
// [a-zA-Z0-9_] with '_', collapses runs of '_', and appends "_total" to counters that lack it
// (units are only written as a "# UNIT" comment, never appended). This module rejects, at creation,
// any name the exporter would change.
import type { Meter, MetricOptions } from '@opentelemetry/api';

export type InstrumentKind =
  'counter' | 'observable-counter' | 'up-down-counter' | 'gauge' | 'histogram';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws an Error explaining how the exporter would change `name`, if it would. */
export function checkMetricName(name: string, kind: InstrumentKind): void {
  if (!NAME.test(name)) {
    throw new Error(
      `metric name ${JSON.stringify(name)}: use only letters, digits and '_', not starting with a digit`,
    );
  }
  if (name.includes('__')) {
    throw new Error(`metric name ${JSON.stringify(name)}: "__" would be exported as "_"`);
  }
  const monotonic = kind === 'counter' || kind === 'observable-counter';
  if (monotonic && !name.endsWith('_total')) {
    throw new Error(
      `counter name ${JSON.stringify(name)} would be exported as "${name}_total": end it in _total`,
    );
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
