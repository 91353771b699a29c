// The gRPC services, loaded from our own .proto files (../proto): proto.EchoTestService (Echo,
// ForwardEcho) and grpc.health.v1.Health (Check).
import { fileURLToPath } from 'node:url';
import {
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

const definition = loadSync(['echo.proto', 'health.proto'], {
  includeDirs: [PROTO_DIR],
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const root = loadPackageDefinition(definition) as any;

export const EchoTestService = root.proto.EchoTestService as ServiceClientConstructor;
export const HealthService = root.grpc.health.v1.Health as ServiceClientConstructor;

export const echoTestServiceDefinition: ServiceDefinition = EchoTestService.service;
export const healthServiceDefinition: ServiceDefinition = HealthService.service;
