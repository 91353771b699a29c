// The entries of a --local-config file (YAML-decoded values) built into the protobuf messages the
// control plane would send: istio.workload.Workload / Service and istio.security.Authorization.
// Shape errors (unknown fields, wrong types, unparsable addresses) throw a FieldError naming the
// entry and field; everything else is judged by the converters afterwards. Pure.
import { create } from '@bufbuild/protobuf';
import {
  AuthorizationSchema,
  ClauseSchema,
  MatchSchema,
  RuleSchema,
  ServiceAccountMatchSchema,
  StringMatchSchema,
  AddressSchema as CidrSchema,
  type Authorization as XdsAuthorization,
  type Match as XdsMatch,
  type StringMatch as XdsStringMatch,
} from '@trellis/api/gen/istio/security/authorization_pb.js';
import {
  GatewayAddressSchema,
  LoadBalancingSchema,
  LocalitySchema,
  NetworkAddressSchema,
  PortListSchema,
  PortSchema,
  ServiceSchema,
  WorkloadSchema,
  type GatewayAddress as XdsGatewayAddress,
  type Port as XdsPort,
  type Service as XdsService,
  type Workload as XdsWorkload,
} from '@trellis/api/gen/istio/workload/workload_pb.js';
import { ipToBytes, maxPrefix } from '@trellis/core';
import {
  anyMapping,
  bool,
  fail,
  list,
  mapping,
  oneOf,
  port,
  quote,
  requiredStr,
  str,
  uint,
  type Json,
} from './yaml-fields.js';

const WORKLOAD_FIELDS = [
  'uid',
  'name',
  'namespace',
  'serviceAccount',
  'trustDomain',
  'workloadIps',
  'hostname',
  'network',
  'node',
  'protocol',
  'status',
  'services',
  'waypoint',
  'authorizationPolicies',
  'canonicalName',
  'canonicalRevision',
  'workloadName',
  'clusterId',
  'locality',
  'capacity',
];

export function workloadMessage(entry: Json, at: string): XdsWorkload {
  const w = mapping(entry, at, WORKLOAD_FIELDS);
  const uid = requiredStr(w.uid, `${at}.uid`);
  const path = `${at} (uid ${quote(uid)})`;
  const services: Record<string, ReturnType<typeof portList>> = {};
  for (const [key, ports] of Object.entries(anyMapping(w.services ?? {}, `${path}.services`))) {
    services[key] = portList(ports, `${path}.services[${quote(key)}]`);
  }
  const locality =
    w.locality === undefined
      ? undefined
      : mapping(w.locality, `${path}.locality`, ['region', 'zone', 'subzone']);
  return create(WorkloadSchema, {
    uid,
    name: str(w.name, `${path}.name`),
    namespace: requiredStr(w.namespace, `${path}.namespace`),
    serviceAccount: str(w.serviceAccount, `${path}.serviceAccount`),
    trustDomain: str(w.trustDomain, `${path}.trustDomain`),
    addresses: list(w.workloadIps, `${path}.workloadIps`).map((ip, i) =>
      ipBytes(ip, `${path}.workloadIps[${i}]`),
    ),
    hostname: str(w.hostname, `${path}.hostname`),
    network: str(w.network, `${path}.network`),
    node: str(w.node, `${path}.node`),
    tunnelProtocol:
      oneOf(w.protocol, `${path}.protocol`, ['TCP', 'HBONE'], 'TCP') === 'HBONE' ? 1 : 0,
    status:
      oneOf(w.status, `${path}.status`, ['Healthy', 'Unhealthy'], 'Healthy') === 'Unhealthy'
        ? 1
        : 0,
    services,
    ...(w.waypoint !== undefined
      ? { waypoint: gatewayMessage(w.waypoint, `${path}.waypoint`) }
      : {}),
    authorizationPolicies: list(w.authorizationPolicies, `${path}.authorizationPolicies`).map(
      (p, i) => requiredStr(p, `${path}.authorizationPolicies[${i}]`),
    ),
    canonicalName: str(w.canonicalName, `${path}.canonicalName`),
    canonicalRevision: str(w.canonicalRevision, `${path}.canonicalRevision`),
    workloadName: str(w.workloadName, `${path}.workloadName`),
    clusterId: str(w.clusterId, `${path}.clusterId`),
    ...(locality
      ? {
          locality: create(LocalitySchema, {
            region: str(locality.region, `${path}.locality.region`),
            zone: str(locality.zone, `${path}.locality.zone`),
            subzone: str(locality.subzone, `${path}.locality.subzone`),
          }),
        }
      : {}),
    ...(w.capacity !== undefined
      ? { capacity: uint(w.capacity, `${path}.capacity`, 0xffffffff) }
      : {}),
  });
}

const SERVICE_FIELDS = [
  'name',
  'namespace',
  'hostname',
  'vips',
  'ports',
  'subjectAltNames',
  'waypoint',
  'canonical',
  'loadBalancing',
];
const LB_SCOPES = ['REGION', 'ZONE', 'SUBZONE', 'NODE', 'CLUSTER', 'NETWORK'] as const;
const LB_MODES = ['Standard', 'Strict', 'Failover', 'Passthrough'] as const;

export function serviceMessage(entry: Json, at: string): XdsService {
  const s = mapping(entry, at, SERVICE_FIELDS);
  const path = `${at} (hostname ${quote(str(s.hostname, `${at}.hostname`))})`;
  const lb =
    s.loadBalancing === undefined
      ? undefined
      : mapping(s.loadBalancing, `${path}.loadBalancing`, [
          'mode',
          'healthPolicy',
          'routingPreference',
        ]);
  return create(ServiceSchema, {
    name: str(s.name, `${path}.name`),
    namespace: requiredStr(s.namespace, `${path}.namespace`),
    hostname: requiredStr(s.hostname, `${path}.hostname`),
    addresses: list(s.vips, `${path}.vips`).map((v, i) => {
      const { network, bytes } = networkIp(v, `${path}.vips[${i}]`);
      return create(NetworkAddressSchema, { network, address: bytes });
    }),
    ports: portList(s.ports ?? {}, `${path}.ports`).ports,
    subjectAltNames: list(s.subjectAltNames, `${path}.subjectAltNames`).map((n, i) =>
      requiredStr(n, `${path}.subjectAltNames[${i}]`),
    ),
    ...(s.waypoint !== undefined
      ? { waypoint: gatewayMessage(s.waypoint, `${path}.waypoint`) }
      : {}),
    canonical: bool(s.canonical, `${path}.canonical`),
    ...(lb
      ? {
          loadBalancing: create(LoadBalancingSchema, {
            mode: LB_MODES.indexOf(
              oneOf(lb.mode, `${path}.loadBalancing.mode`, LB_MODES, 'Standard'),
            ),
            healthPolicy:
              oneOf(
                lb.healthPolicy,
                `${path}.loadBalancing.healthPolicy`,
                ['OnlyHealthy', 'AllowAll'],
                'OnlyHealthy',
              ) === 'AllowAll'
                ? 1
                : 0,
            routingPreference: list(
              lb.routingPreference,
              `${path}.loadBalancing.routingPreference`,
            ).map(
              (r, i) =>
                LB_SCOPES.indexOf(
                  oneOf(r, `${path}.loadBalancing.routingPreference[${i}]`, LB_SCOPES, 'REGION'),
                ) + 1,
            ),
          }),
        }
      : {}),
  });
}

const POLICY_FIELDS = ['name', 'namespace', 'scope', 'action', 'dryRun', 'rules'];
const MATCH_FIELDS = [
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'principals',
  'notPrincipals',
  'sourceIps',
  'notSourceIps',
  'destinationIps',
  'notDestinationIps',
  'destinationPorts',
  'notDestinationPorts',
];

export function policyMessage(entry: Json, at: string): XdsAuthorization {
  const p = mapping(entry, at, POLICY_FIELDS);
  const path = `${at} (name ${quote(str(p.name, `${at}.name`))})`;
  const scopes = ['Global', 'Namespace', 'WorkloadSelector'] as const;
  return create(AuthorizationSchema, {
    name: requiredStr(p.name, `${path}.name`),
    namespace: requiredStr(p.namespace, `${path}.namespace`),
    scope: scopes.indexOf(oneOf(p.scope, `${path}.scope`, scopes, 'Global')),
    action: oneOf(p.action, `${path}.action`, ['Allow', 'Deny'], 'Allow') === 'Deny' ? 1 : 0,
    dryRun: bool(p.dryRun, `${path}.dryRun`),
    rules: list(p.rules, `${path}.rules`).map((rule, r) =>
      create(RuleSchema, {
        clauses: list(rule, `${path}.rules[${r}]`).map((clause, c) =>
          create(ClauseSchema, {
            matches: list(clause, `${path}.rules[${r}][${c}]`).map((m, i) =>
              matchMessage(m, `${path}.rules[${r}][${c}][${i}]`),
            ),
          }),
        ),
      }),
    ),
  });
}

function matchMessage(entry: Json, at: string): XdsMatch {
  const m = mapping(entry, at, MATCH_FIELDS);
  const strings = (f: string) =>
    list(m[f], `${at}.${f}`).map((s, i) => stringMatch(s, `${at}.${f}[${i}]`));
  const cidrs = (f: string) =>
    list(m[f], `${at}.${f}`).map((c, i) => cidrMessage(c, `${at}.${f}[${i}]`));
  const ports = (f: string) => list(m[f], `${at}.${f}`).map((n, i) => port(n, `${at}.${f}[${i}]`));
  const accounts = (f: string) =>
    list(m[f], `${at}.${f}`).map((a, i) => {
      const sa = mapping(a, `${at}.${f}[${i}]`, ['namespace', 'serviceAccount']);
      return create(ServiceAccountMatchSchema, {
        namespace: requiredStr(sa.namespace, `${at}.${f}[${i}].namespace`),
        serviceAccount: requiredStr(sa.serviceAccount, `${at}.${f}[${i}].serviceAccount`),
      });
    });
  return create(MatchSchema, {
    namespaces: strings('namespaces'),
    notNamespaces: strings('notNamespaces'),
    serviceAccounts: accounts('serviceAccounts'),
    notServiceAccounts: accounts('notServiceAccounts'),
    principals: strings('principals'),
    notPrincipals: strings('notPrincipals'),
    sourceIps: cidrs('sourceIps'),
    notSourceIps: cidrs('notSourceIps'),
    destinationIps: cidrs('destinationIps'),
    notDestinationIps: cidrs('notDestinationIps'),
    destinationPorts: ports('destinationPorts'),
    notDestinationPorts: ports('notDestinationPorts'),
  });
}

/** {exact: x} | {prefix: x} | {suffix: x} | {presence: {}} */
function stringMatch(entry: Json, at: string): XdsStringMatch {
  const s = mapping(entry, at, ['exact', 'prefix', 'suffix', 'presence']);
  const keys = Object.keys(s);
  if (keys.length !== 1) fail(at, 'set exactly one of exact, prefix, suffix or presence');
  const [kind] = keys as ('exact' | 'prefix' | 'suffix' | 'presence')[];
  if (kind === 'presence') {
    return create(StringMatchSchema, { matchType: { case: 'presence', value: {} } });
  }
  const value = str(s[kind], `${at}.${kind}`);
  return create(StringMatchSchema, { matchType: { case: kind, value } });
}

/** "10.0.0.0/8" or a single address. */
function cidrMessage(entry: Json, at: string) {
  const text = str(entry, at);
  const slash = text.indexOf('/');
  const bytes = ipBytes(slash === -1 ? text : text.slice(0, slash), at);
  const length =
    slash === -1 ? maxPrefix(bytes) : uint(text.slice(slash + 1), `${at} (prefix length)`, 128);
  return create(CidrSchema, { address: bytes, length });
}

/** {port: targetPort} mapping -> PortList. */
function portList(entry: Json, at: string) {
  const ports: XdsPort[] = Object.entries(anyMapping(entry, at)).map(([svc, target]) =>
    create(PortSchema, {
      servicePort: port(svc, `${at}[${svc}]`),
      targetPort: uint(target, `${at}[${svc}]`, 65535),
    }),
  );
  return create(PortListSchema, { ports });
}

/** {service: "<namespace>/<hostname>"} or {address: "[<network>/]<ip>"}, plus hbonePort. */
function gatewayMessage(entry: Json, at: string): XdsGatewayAddress {
  const g = mapping(entry, at, ['service', 'address', 'hbonePort']);
  const hboneMtlsPort = g.hbonePort === undefined ? 15008 : port(g.hbonePort, `${at}.hbonePort`);
  if ((g.service === undefined) === (g.address === undefined))
    fail(at, 'set exactly one of service or address');
  if (g.service !== undefined) {
    const key = requiredStr(g.service, `${at}.service`);
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1)
      fail(`${at}.service`, `${quote(key)} is not "<namespace>/<hostname>"`);
    return create(GatewayAddressSchema, {
      destination: {
        case: 'hostname',
        value: { namespace: key.slice(0, slash), hostname: key.slice(slash + 1) },
      },
      hboneMtlsPort,
    });
  }
  const { network, bytes } = networkIp(g.address, `${at}.address`);
  return create(GatewayAddressSchema, {
    destination: {
      case: 'address',
      value: create(NetworkAddressSchema, { network, address: bytes }),
    },
    hboneMtlsPort,
  });
}

/** "10.0.0.1" or "<network>/10.0.0.1" (ztunnel's localhost.yaml form). */
function networkIp(entry: Json, at: string): { network: string; bytes: Uint8Array } {
  const text = str(entry, at);
  const slash = text.lastIndexOf('/');
  const bytes = ipToBytes(text.slice(slash + 1));
  if (!bytes) fail(at, `${quote(text)} is not "<ip>" or "<network>/<ip>"`);
  return { network: slash === -1 ? '' : text.slice(0, slash), bytes };
}

function ipBytes(entry: Json, at: string): Uint8Array {
  const text = str(entry, at);
  const bytes = ipToBytes(text);
  if (!bytes) fail(at, `${quote(text)} is not an IP address`);
  return bytes;
}
