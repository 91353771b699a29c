// A gRPC service definition for tests, with raw bytes as messages (no codegen): echo.Echo/Say
// (unary) and echo.Echo/Count (server streaming).
import type { ServiceDefinition } from '@grpc/grpc-js';

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (path: string, responseStream: boolean) => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: raw.serialize,
  requestDeserialize: raw.deserialize,
  responseSerialize: raw.serialize,
  responseDeserialize: raw.deserialize,
});

export const ECHO = {
  say: method('/echo.Echo/Say', false),
  count: method('/echo.Echo/Count', true),
} satisfies ServiceDefinition;
