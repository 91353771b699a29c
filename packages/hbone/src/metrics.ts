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
} as const;

export class HboneMetrics {
  readonly #attributes: Attributes;
  readonly #connections: UpDownCounter;
  readonly #streams: UpDownCounter;
  readonly #sent: Counter;
  readonly #received: Counter;

  constructor(direction: Direction, meter: Meter = createNoopMeter()) {
    this.#attributes = { direction };
    this.#connections = meter.createUpDownCounter(METRIC_NAMES.openConnections, {
      description: 'HBONE (HTTP/2 over mTLS) connections currently open',
    });
    this.#streams = meter.createUpDownCounter(METRIC_NAMES.openStreams, {
      description: 'HBONE CONNECT streams (tunneled TCP connections) currently open',
    });
    this.#sent = meter.createCounter(METRIC_NAMES.sentBytes, {
      description: 'Bytes written into HBONE tunnels',
      unit: 'By',
    });
    this.#received = meter.createCounter(METRIC_NAMES.receivedBytes, {
      description: 'Bytes read from HBONE tunnels',
      unit: 'By',
    });
  }

  connectionOpened(): void {
    this.#connections.add(1, this.#attributes);
  }

  connectionClosed(): void {
    this.#connections.add(-1, this.#attributes);
  }

  streamOpened(): void {
    this.#streams.add(1, this.#attributes);
  }

  streamClosed(): void {
    this.#streams.add(-1, this.#attributes);
  }

  /** Counts a tunnel's bytes into the totals. */
  readonly bytes: ByteCounter = {
    sent: (n) => this.#sent.add(n, this.#attributes),
    received: (n) => this.#received.add(n, this.#attributes),
  };
}
