import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, equals } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from './gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from './gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from './gen/envoy/config/route/v3/route_pb.js';
import { AuthorizationSchema } from './gen/istio/security/authorization_pb.js';
import { AddressSchema } from './gen/istio/workload/workload_pb.js';
import { packAny, unpackAny, unpackAnyAs } from './any.js';
import { ProtoDecodeError } from './decode-error.js';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from './type-urls.js';

const address = create(AddressSchema, {
  type: { case: 'workload', value: { uid: 'Kubernetes//Pod/prod/api-0', serviceAccount: 'api' } },
});

test('type URL constants name the generated message types', () => {
  assert.equal(ADDRESS_TYPE_URL, 'type.googleapis.com/istio.workload.Address');
  assert.equal(AUTHORIZATION_TYPE_URL, 'type.googleapis.com/istio.security.Authorization');
  for (const [url, schema] of [
    [ADDRESS_TYPE_URL, AddressSchema],
    [AUTHORIZATION_TYPE_URL, AuthorizationSchema],
    [LISTENER_TYPE_URL, ListenerSchema],
    [ROUTE_CONFIGURATION_TYPE_URL, RouteConfigurationSchema],
    [CLUSTER_TYPE_URL, ClusterSchema],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ClusterLoadAssignmentSchema],
  ] as const) {
    assert.equal(url, `type.googleapis.com/${schema.typeName}`);
  }
});

test('an Address packed into Any carries the WDS type URL and unpacks by that URL', () => {
  const any = packAny(AddressSchema, address);
  assert.equal(any.typeUrl, ADDRESS_TYPE_URL);
  const back = unpackAny(any);
  assert.equal(back.$typeName, 'istio.workload.Address');
  assert.ok(equals(AddressSchema, back as typeof address, address));
  assert.ok(equals(AddressSchema, unpackAnyAs(any, AddressSchema), address));
});

test('Envoy resources unpack through the registry too', () => {
  const cluster = create(ClusterSchema, { name: 'outbound|80||api.prod.svc.cluster.local' });
  const back = unpackAny(packAny(ClusterSchema, cluster));
  assert.equal(back.$typeName, 'envoy.config.cluster.v3.Cluster');
  assert.equal((back as typeof cluster).name, cluster.name);
});

test('unpackAnyAs refuses an Any of another type', () => {
  const any = packAny(AddressSchema, address);
  assert.throws(() => unpackAnyAs(any, AuthorizationSchema), {
    message: `cannot unpack Any: expected type URL "${AUTHORIZATION_TYPE_URL}", got "${ADDRESS_TYPE_URL}"`,
  });
});

test('unpackAny reports an unknown or missing type URL', () => {
  const unknown = create(AnySchema, {
    typeUrl: 'type.googleapis.com/acme.Widget',
    value: new Uint8Array(),
  });
  assert.throws(() => unpackAny(unknown), {
    message: 'cannot unpack Any: unknown type URL "type.googleapis.com/acme.Widget"',
  });
  assert.throws(() => unpackAny(create(AnySchema)), {
    message: 'cannot unpack Any: invalid type URL ""',
  });
});

test('corrupt Any bytes raise ProtoDecodeError naming the type', () => {
  const corrupt = create(AnySchema, {
    typeUrl: ADDRESS_TYPE_URL,
    value: new Uint8Array([0x0a, 0x05, 0x01]),
  });
  for (const unpack of [() => unpackAny(corrupt), () => unpackAnyAs(corrupt, AddressSchema)]) {
    assert.throws(unpack, (err: unknown) => {
      assert.ok(err instanceof ProtoDecodeError);
      assert.equal(err.typeName, 'istio.workload.Address');
      assert.match(err.message, /^cannot decode istio\.workload\.Address: /);
      return true;
    });
  }
});
