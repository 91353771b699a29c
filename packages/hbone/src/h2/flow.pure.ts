// HTTP/2 flow-control accounting (RFC 9113 §5.2, §6.9), without I/O.
import { ErrorCode, H2ProtocolError, MAX_WINDOW } from './frames.pure.js';

/** What this end may still send: the peer's window for a stream or for the connection. */
export class SendWindow {
  #available: number;

  constructor(initial: number) {
    this.#available = initial;
  }

  /** Octets that may be sent now (negative after the peer lowered SETTINGS_INITIAL_WINDOW_SIZE). */
  get available(): number {
    return this.#available;
  }

  consume(octets: number): void {
    if (octets > this.#available) {
      throw new Error(`flow control: sending ${octets} octets with a window of ${this.#available}`);
    }
    this.#available -= octets;
  }

  /** A WINDOW_UPDATE (or a change of SETTINGS_INITIAL_WINDOW_SIZE, which may be negative). */
  grow(increment: number, streamId: number): void {
    if (this.#available + increment > MAX_WINDOW) {
      throw new H2ProtocolError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `flow-control window of ${streamId === 0 ? 'the connection' : `stream ${streamId}`} grows above 2^31-1`,
        streamId,
      );
    }
    this.#available += increment;
  }
}

/**
 * What the peer may still send to this end. Received octets are released as the application takes
 * them; once at least `threshold` are released, `release` returns the WINDOW_UPDATE increment.
 */
export class ReceiveWindow {
  #open: number;
  #released = 0;

  constructor(
    size: number,
    private readonly threshold: number,
  ) {
    this.#open = size;
  }

  /** Octets the peer may send before the next WINDOW_UPDATE. */
  get open(): number {
    return this.#open;
  }

  /** A DATA frame of `octets` arrived (padding included); more than the window is a FLOW_CONTROL_ERROR. */
  receive(octets: number, streamId: number): void {
    if (octets > this.#open) {
      throw new H2ProtocolError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `${octets} octets of DATA on ${streamId === 0 ? 'the connection' : `stream ${streamId}`} exceed its window of ${this.#open}`,
        streamId,
      );
    }
    this.#open -= octets;
  }

  /** The application consumed `octets`; returns the increment to announce now, or 0. */
  release(octets: number): number {
    this.#released += octets;
    if (this.#released < this.threshold) return 0;
    const increment = this.#released;
    this.#released = 0;
    this.#open += increment;
    return increment;
  }
}
