// Local replies (404 no route, 403 RBAC, 503 overflow, 504 timeout, ...) as HTTP responses, and as
// gRPC trailers-only responses when the request was gRPC (the HTTP status mapped to a gRPC code as
// Envoy maps it, the text in grpc-message). Pure.
import type { HeaderList } from '../http/headers.pure.js';

/** Envoy's HTTP -> gRPC status mapping for local replies. */
export function grpcStatusFor(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
export function encodeGrpcMessage(s: string): string {
  return s.replace(/[^\x20-\x24\x26-\x7e]/g, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

export interface LocalResponse {
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: Buffer;
  /** gRPC: the status and message go in the head (trailers-only). */
  readonly grpc: boolean;
}

export function localResponse(
  status: number,
  text: string,
  extra: HeaderList | undefined,
  grpcRequest: boolean,
  grpcStatus?: number,
): LocalResponse {
  if (grpcRequest) {
    return {
      status: 200,
      headers: [
        'content-type',
        'application/grpc',
        'grpc-status',
        String(grpcStatus ?? grpcStatusFor(status)),
        'grpc-message',
        encodeGrpcMessage(text),
        ...(extra ?? []),
      ],
      body: Buffer.alloc(0),
      grpc: true,
    };
  }
  const body = Buffer.from(text, 'utf8');
  return {
    status,
    headers: [
      'content-length',
      String(body.length),
      'content-type',
      'text/plain',
      ...(extra ?? []),
    ],
    body,
    grpc: false,
  };
}
