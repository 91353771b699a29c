// Public surface of @trellis/api. Generated messages are imported from the subpath
// "@trellis/api/gen/<proto path>_pb.js", e.g. "@trellis/api/gen/istio/workload/workload_pb.js".
export {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
  typeUrlOf,
} from './type-urls.js';
export { apiRegistry } from './registry.js';
export { packAny, unpackAny, unpackAnyAs } from './any.js';
export { ProtoDecodeError } from './decode-error.js';
export {
  grpcService,
  type GrpcServiceDefinition,
  type GrpcServiceImplementation,
  type MethodsOf,
  type RequestOf,
  type ResponseOf,
} from './grpc-service.js';
export {
  grpcClientConstructor,
  type BidiStreamingClientMethod,
  type ClientStreamingClientMethod,
  type GrpcClient,
  type GrpcClientConstructor,
  type ServerStreamingClientMethod,
  type UnaryClientMethod,
} from './grpc-client.js';
