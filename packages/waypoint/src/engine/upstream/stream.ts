// One request on an upstream connection, whatever the protocol: the exchange starts it, sends body
// and trailers, and hears the response through a listener. HTTP/1.1 connections and HTTP/2 streams
// implement it.
import type { Duplex } from 'node:stream';
import type { HeaderList } from '../http/headers.pure.js';
import type { EndpointConfig, ClusterConfig } from '../model/cluster.js';

/** Why an upstream attempt failed; `local` errors never reached the upstream application. */
export type UpstreamFailure =
  | 'connect-failure'
  | 'overflow'
  | 'reset-before-response'
  | 'reset-after-response'
  | 'refused-stream'
  | 'protocol-error'
  | 'timeout';

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly headers: HeaderList;
  /** Body framing known from the downstream: a length, or undefined (chunked / streamed). */
  readonly contentLength: number | undefined;
  /** No body follows. */
  readonly endStream: boolean;
}

export interface UpstreamListener {
  /** 1xx heads (except 101). */
  onInformational(status: number, headers: HeaderList): void;
  onHead(status: number, headers: HeaderList, endStream: boolean): void;
  onData(chunk: Buffer, endStream: boolean): void;
  onTrailers(trailers: HeaderList): void;
  onError(err: UpstreamError): void;
  /** The stream can take more body after sendData returned false. */
  onDrain(): void;
  /** 101 Switching Protocols: the connection is now a raw byte stream handed to the owner. */
  onUpgrade?(status: number, headers: HeaderList, socket: Duplex, head: Buffer): void;
}

export interface UpstreamStream {
  /** Sends the head (and body bytes already at hand). */
  start(req: UpstreamRequest, listener: UpstreamListener): void;
  /** false: wait for onDrain before sending more. */
  sendData(chunk: Buffer, endStream: boolean): boolean;
  sendTrailers(trailers: HeaderList): void;
  /** Stop delivering response body until resume (downstream back-pressure). */
  pause(): void;
  resume(): void;
  /** Abandons the request; the connection is not reused. */
  reset(): void;
  /** "ip:port" of the upstream host. */
  readonly remote: string;
  /** The connection carried requests before (a kept-alive connection the server may have closed). */
  readonly reused: boolean;
}

/** Opens the byte stream to one endpoint (HBONE tunnel, TCP socket). Provided by the role. */
export interface Connector {
  connect(endpoint: EndpointConfig, cluster: ClusterConfig, signal: AbortSignal): Promise<Duplex>;
}
