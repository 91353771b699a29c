// The HBONE metrics, labelled by direction (`inbound` for the server, `outbound` for the client).
// Pass a Meter from @trellis/core's createMetrics().meter('hbone'); without one nothing is recorded.
import {
  createNoopMeter,
  type Attributes,
  type Counter,
  type Meter,
  type UpDownCounter,
} from '@opentelemetry/api';
import type { ByteCounter } from './tunnel-stream.js';

export type Direction = 'inbound' | 'outbound';

export const METRIC_NAMES = {
  openConnections: 'hbone_open_connections',
  openStreams: 'hbone_open_streams',
  sentBytes: 'hbone_sent_bytes_total',
  receivedBytes: 'hbone_received_bytes_total',
  refusedConnections: 'hbone_refused_connections_total',
  idleClosedConnections: 'hbone_idle_closed_connections_total',
} as const;

export class HboneMetrics {
  readonly #attributes: Attributes;
  readonly #connections: UpDownCounter;
  readonly #streams: UpDownCounter;
  readonly #refused: Counter;
  readonly #idleClosed: Counter;
  // Byte totals are plain numbers, read at collection: a Counter.add per DATA frame cost a few
  // percent of the data path (attribute hashing and a map lookup for every 16 KiB).
  #sentTotal = 0;
  #receivedTotal = 0;

  constructor(direction: Direction, meter: Meter = createNoopMeter()) {
    this.#attributes = { direction };
    this.#connections = meter.createUpDownCounter(METRIC_NAMES.openConnections, {
      description: 'HBONE (HTTP/2 over mTLS) connections currently open',
    });
    this.#streams = meter.createUpDownCounter(METRIC_NAMES.openStreams, {
      description: 'HBONE CONNECT streams (tunneled TCP connections) currently open',
    });
    this.#refused = meter.createCounter(METRIC_NAMES.refusedConnections, {
      description: 'HBONE connections refused before TLS, by reason (limit: the connection cap)',
    });
    this.#idleClosed = meter.createCounter(METRIC_NAMES.idleClosedConnections, {
      description:
        'HBONE connections closed by the server after carrying no stream for the idle timeout',
    });
    meter
      .createObservableCounter(METRIC_NAMES.sentBytes, {
        description: 'Bytes written into HBONE tunnels',
        unit: 'By',
      })
      .addCallback((result) => result.observe(this.#sentTotal, this.#attributes));
    meter
      .createObservableCounter(METRIC_NAMES.receivedBytes, {
        description: 'Bytes read from HBONE tunnels',
        unit: 'By',
      })
      .addCallback((result) => result.observe(this.#receivedTotal, this.#attributes));
  }

  connectionOpened(): void {
    this.#connections.add(1, this.#attributes);
  }

  connectionClosed(): void {
    this.#connections.add(-1, this.#attributes);
  }

  refused(reason: 'limit'): void {
    this.#refused.add(1, { ...this.#attributes, reason });
  }

  idleClosed(): void {
    this.#idleClosed.add(1, this.#attributes);
  }

  streamOpened(): void {
    this.#streams.add(1, this.#attributes);
  }

  streamClosed(): void {
    this.#streams.add(-1, this.#attributes);
  }

  /** Counts a tunnel's bytes into the totals. */
  readonly bytes: ByteCounter = {
    sent: (n) => {
      this.#sentTotal += n;
    },
    received: (n) => {
      this.#receivedTotal += n;
    },
  };
}
