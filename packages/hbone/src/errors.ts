// Errors a caller of the HBONE client can tell apart: the server answered with a status other than
// 200, the connection could not be made, or an established tunnel was reset.
const STATUS_MEANING: Readonly<Record<number, string>> = {
  400: 'bad request',
  401: 'denied by policy',
  503: 'upstream connect failed',
};

/** The HBONE server answered the CONNECT with `status` instead of 200. */
export class HboneStatusError extends Error {
  readonly code = 'ERR_HBONE_STATUS';
  constructor(
    readonly status: number,
    readonly target: string,
    readonly via: string,
  ) {
    super(
      `HBONE CONNECT ${target} via ${via} was answered ${status} (${STATUS_MEANING[status] ?? 'unexpected status'})`,
    );
    this.name = 'HboneStatusError';
  }
}

/** No HBONE connection or stream could be set up; `cause` holds the underlying error. */
export class HboneConnectError extends Error {
  readonly code = 'ERR_HBONE_CONNECT';
  /** True when the server certainly did not process the request (refused stream, closing connection). */
  readonly unprocessed: boolean;
  constructor(message: string, options: { cause?: unknown; unprocessed?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HboneConnectError';
    this.unprocessed = options.unprocessed ?? false;
  }
}

// HTTP/2 error codes (RFC 9113 §7), indexed by code.
const RST_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/**
 * An established tunnel ended abnormally: the peer reset the stream (RST_STREAM `rstCode`), or the
 * HTTP/2 connection under it went away. `code` is ECONNRESET, as for a reset TCP connection.
 */
export class TunnelResetError extends Error {
  readonly code = 'ECONNRESET';
  constructor(
    readonly rstCode: number,
    detail: string,
  ) {
    super(`HBONE tunnel reset: ${detail}`);
    this.name = 'TunnelResetError';
  }
}

/** The RST_STREAM error code's name (CANCEL, CONNECT_ERROR, ...). */
export function rstCodeName(code: number): string {
  return RST_NAMES[code] ?? `code ${code}`;
}
