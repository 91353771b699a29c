// Full messages survive encode/decode unchanged (binary, and JSON for the Address).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  create,
  equals,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type MessageShape,
} from '@bufbuild/protobuf';
import { AuthorizationSchema, Action, Scope } from './gen/istio/security/authorization_pb.js';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
} from './gen/istio/v1/auth/ca_pb.js';
import {
  AddressSchema,
  AppProtocol,
  IPFamilies,
  LoadBalancing_Mode,
  LoadBalancing_Scope,
  LocalitySchema,
  NetworkMode,
  TunnelProtocol,
  WorkloadType,
} from './gen/istio/workload/workload_pb.js';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
} from './gen/istio/workload/zds/zds_pb.js';
import { packAny } from './any.js';
import { apiRegistry } from './registry.js';

function roundTrip<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): MessageShape<Desc> {
  const decoded = fromBinary(schema, toBinary(schema, message));
  assert.ok(equals(schema, decoded, message), `${schema.typeName} changed in a binary round trip`);
  return decoded;
}

const workloadAddress = create(AddressSchema, {
  type: {
    case: 'workload',
    value: {
      uid: 'Kubernetes//Pod/prod/api-7d9f-x2',
      name: 'api-7d9f-x2',
      namespace: 'prod',
      addresses: [new Uint8Array([10, 244, 2, 9]), new Uint8Array(16).fill(1)],
      network: 'net-1',
      tunnelProtocol: TunnelProtocol.HBONE,
      trustDomain: 'cluster.local',
      serviceAccount: 'api',
      waypoint: {
        destination: {
          case: 'hostname',
          value: { namespace: 'prod', hostname: 'waypoint.prod.svc.cluster.local' },
        },
        hboneMtlsPort: 15008,
      },
      node: 'node-b',
      canonicalName: 'api',
      canonicalRevision: 'v2',
      workloadType: WorkloadType.DEPLOYMENT,
      workloadName: 'api',
      services: {
        'prod/api.prod.svc.cluster.local': {
          ports: [{ servicePort: 80, targetPort: 8080, appProtocol: AppProtocol.HTTP11 }],
        },
      },
      authorizationPolicies: ['prod/allow-frontend'],
      clusterId: 'Kubernetes',
      locality: { region: 'eu-west1', zone: 'eu-west1-b' },
      networkMode: NetworkMode.STANDARD,
      extensions: [
        {
          name: 'trellis.dev/zone-hint',
          config: packAny(LocalitySchema, create(LocalitySchema, { zone: 'b' })),
        },
      ],
      capacity: 3,
    },
  },
});

const serviceAddress = create(AddressSchema, {
  type: {
    case: 'service',
    value: {
      name: 'api',
      namespace: 'prod',
      hostname: 'api.prod.svc.cluster.local',
      addresses: [
        { network: 'net-1', address: new Uint8Array([10, 96, 4, 4]) },
        { address: new Uint8Array([10, 0, 0, 0]), length: 8 },
      ],
      ports: [{ servicePort: 80, targetPort: 8080 }],
      waypoint: {
        destination: { case: 'address', value: { address: new Uint8Array([10, 96, 9, 9]) } },
        hboneMtlsPort: 15008,
      },
      loadBalancing: {
        routingPreference: [LoadBalancing_Scope.NETWORK, LoadBalancing_Scope.ZONE],
        mode: LoadBalancing_Mode.FAILOVER,
      },
      ipFamilies: IPFamilies.IPV4_ONLY,
    },
  },
});

test('Address holding a Workload round-trips, including map, wrapper and Any fields', () => {
  const back = roundTrip(AddressSchema, workloadAddress);
  assert.equal(back.type.case, 'workload');
  assert.equal(back.type.value.capacity, 3);
  assert.equal(
    back.type.value.services['prod/api.prod.svc.cluster.local']?.ports[0]?.targetPort,
    8080,
  );
});

test('Address holding a Service round-trips, keeping an explicit NetworkAddress.length', () => {
  const back = roundTrip(AddressSchema, serviceAddress);
  assert.equal(back.type.case, 'service');
  assert.equal(back.type.value.addresses[0]?.length, undefined);
  assert.equal(back.type.value.addresses[1]?.length, 8);
});

test('Address JSON uses proto field names as lowerCamelCase and round-trips with the registry', () => {
  const json = toJson(AddressSchema, workloadAddress, { registry: apiRegistry });
  assert.equal((json as { workload: { serviceAccount: string } }).workload.serviceAccount, 'api');
  assert.ok(
    equals(
      AddressSchema,
      fromJson(AddressSchema, json, { registry: apiRegistry }),
      workloadAddress,
    ),
  );
});

test('Authorization round-trips', () => {
  roundTrip(
    AuthorizationSchema,
    create(AuthorizationSchema, {
      name: 'allow-frontend',
      namespace: 'prod',
      scope: Scope.WORKLOAD_SELECTOR,
      action: Action.ALLOW,
      dryRun: true,
      rules: [
        {
          clauses: [
            {
              matches: [
                {
                  principals: [
                    { matchType: { case: 'exact', value: 'cluster.local/ns/prod/sa/frontend' } },
                  ],
                },
              ],
            },
            {
              matches: [
                {
                  destinationPorts: [8080],
                  notSourceIps: [{ address: new Uint8Array([192, 168, 0, 0]), length: 16 }],
                },
              ],
            },
          ],
        },
      ],
    }),
  );
});

test('CA request and response round-trip, metadata Struct included', () => {
  roundTrip(
    IstioCertificateRequestSchema,
    create(IstioCertificateRequestSchema, {
      csr: 'PEM',
      validityDuration: 86400n,
      metadata: {
        ImpersonatedIdentity: 'spiffe://cluster.local/ns/prod/sa/api',
        nested: { n: 1, ok: true },
      },
    }),
  );
  roundTrip(
    IstioCertificateResponseSchema,
    create(IstioCertificateResponseSchema, { certChain: ['leaf', 'root'] }),
  );
});

test('ZDS messages round-trip', () => {
  roundTrip(ZdsHelloSchema, create(ZdsHelloSchema, { version: Version.V1 }));
  const requests = [
    create(WorkloadRequestSchema, {
      payload: {
        case: 'add',
        value: {
          uid: 'u1',
          workloadInfo: { name: 'web-0', namespace: 'prod', serviceAccount: 'web' },
        },
      },
    }),
    create(WorkloadRequestSchema, { payload: { case: 'keep', value: { uid: 'u2' } } }),
    create(WorkloadRequestSchema, { payload: { case: 'del', value: { uid: 'u3' } } }),
    create(WorkloadRequestSchema, { payload: { case: 'snapshotSent', value: {} } }),
  ];
  assert.deepEqual(
    requests.map((r) => roundTrip(WorkloadRequestSchema, r).payload.case),
    ['add', 'keep', 'del', 'snapshotSent'],
  );
  roundTrip(
    WorkloadResponseSchema,
    create(WorkloadResponseSchema, { payload: { case: 'ack', value: { error: '' } } }),
  );
});
