#!/usr/bin/env node
// Writes deploy/crds/*.yaml: our CustomResourceDefinitions for Istio's security.istio.io kinds
// (AuthorizationPolicy, PeerAuthentication, RequestAuthentication), served as v1 (stored) and
// v1beta1, and networking.istio.io DestinationRule (v1, v1beta1, v1alpha3; the fields the
// waypoint reads are typed, the rest is kept as written), with structural schemas and the same
// validation rules as Istio's CRDs, so the API server refuses a bad object with a message naming
// the problem.
//   node tools/crds/gen-crds.mjs           rewrite the files
//   node tools/crds/gen-crds.mjs --check   exit 1 (naming the files) when they are out of date
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { stringify } from 'yaml';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '../../deploy/crds');

const str = (extra = {}) => ({ type: 'string', ...extra });
const strings = (items = str(), extra = {}) => ({ type: 'array', items, ...extra });
const obj = (properties, extra = {}) => ({ type: 'object', properties, ...extra });
const rule = (rule, message) => ({ rule, message });

// Label selector: exact labels only (no wildcards), as Istio's policies select workloads.
const selector = obj(
  {
    matchLabels: {
      type: 'object',
      description: 'Labels a workload must carry (all of them) for the object to apply to it.',
      maxProperties: 4096,
      additionalProperties: str({
        maxLength: 63,
        'x-kubernetes-validations': [
          rule('!self.contains("*")', 'a label value to match may not contain a wildcard (*)'),
        ],
      }),
      'x-kubernetes-validations': [
        rule(
          'self.all(key, !key.contains("*"))',
          'a label key to match may not contain a wildcard (*)',
        ),
        rule('self.all(key, key.size() != 0)', 'a label key to match may not be empty'),
      ],
    },
  },
  {
    description:
      'Workloads the object applies to; without it, every workload in the namespace (every workload in the mesh in the root namespace).',
  },
);

// A reference to a Gateway, GatewayClass or Service this object attaches to (same namespace).
const targetRef = obj(
  {
    group: str({
      maxLength: 253,
      pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      description:
        'API group of the target ("" for core, gateway.networking.k8s.io for a Gateway).',
    }),
    kind: str({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$',
      description: 'Kind of the target: Gateway, GatewayClass or Service.',
    }),
    name: str({ minLength: 1, maxLength: 253, description: 'Name of the target.' }),
    namespace: str({
      description: "Must be empty: targets are in the object's own namespace.",
      'x-kubernetes-validations': [
        rule(
          'self.size() == 0',
          'targetRef.namespace must be empty: a target in another namespace is not supported',
        ),
      ],
    }),
  },
  { required: ['kind', 'name'] },
);

const targetFields = {
  selector,
  targetRef: { ...targetRef, description: 'A single target (prefer targetRefs).' },
  targetRefs: {
    type: 'array',
    maxItems: 16,
    items: targetRef,
    description: 'Gateways, GatewayClasses or Services (waypoints) the object applies to.',
  },
};
const oneTargetKind = rule(
  '(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1',
  'set at most one of selector, targetRef and targetRefs',
);

// Status written by controllers (the control plane writes conditions on AuthorizationPolicies).
const status = {
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  properties: {
    conditions: {
      type: 'array',
      items: obj({
        type: str(),
        status: str(),
        reason: str(),
        message: str(),
        lastProbeTime: str({ format: 'date-time' }),
        lastTransitionTime: str({ format: 'date-time' }),
        observedGeneration: {
          'x-kubernetes-int-or-string': true,
          anyOf: [{ type: 'integer' }, { type: 'string' }],
        },
      }),
    },
    observedGeneration: {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    },
    validationMessages: {
      type: 'array',
      items: obj({
        documentationUrl: str(),
        level: str({ enum: ['UNKNOWN', 'ERROR', 'WARNING', 'INFO'] }),
        type: obj({ code: str(), name: str() }),
      }),
    },
  },
};

const source = obj(
  {
    principals: strings(undefined, {
      description: 'Peer identities (trust-domain/ns/NS/sa/SA), from mutual TLS.',
    }),
    notPrincipals: strings(),
    requestPrincipals: strings(undefined, {
      description: 'Request identities (issuer/subject) from a validated JWT.',
    }),
    notRequestPrincipals: strings(),
    namespaces: strings(undefined, { description: 'Namespaces of the peer, from mutual TLS.' }),
    notNamespaces: strings(),
    serviceAccounts: strings(str({ maxLength: 320 }), {
      maxItems: 16,
      description: 'Peer service accounts as NS/SA or SA (same namespace).',
    }),
    notServiceAccounts: strings(str({ maxLength: 320 }), { maxItems: 16 }),
    trustDomains: strings(),
    notTrustDomains: strings(),
    ipBlocks: strings(undefined, { description: 'Source IPs or CIDRs of the connection.' }),
    notIpBlocks: strings(),
    remoteIpBlocks: strings(undefined, {
      description: 'Client IPs or CIDRs as seen through X-Forwarded-For.',
    }),
    notRemoteIpBlocks: strings(),
  },
  {
    description: 'Where the request comes from; every field set must match.',
    'x-kubernetes-validations': [
      rule(
        '(has(self.serviceAccounts) || has(self.notServiceAccounts)) ? (!has(self.principals) && !has(self.notPrincipals) && !has(self.namespaces) && !has(self.notNamespaces)) : true',
        'serviceAccounts and notServiceAccounts cannot be combined with principals, notPrincipals, namespaces or notNamespaces',
      ),
    ],
  },
);

const operation = obj(
  {
    hosts: strings(),
    notHosts: strings(),
    ports: strings(undefined, { description: 'Destination ports (as strings).' }),
    notPorts: strings(),
    methods: strings(),
    notMethods: strings(),
    paths: strings(),
    notPaths: strings(),
  },
  { description: 'What the request does; every field set must match.' },
);

const authorizationPolicySpec = obj(
  {
    ...targetFields,
    action: str({
      enum: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'],
      description: 'ALLOW (default), DENY, AUDIT or CUSTOM.',
    }),
    provider: obj({ name: str({ description: 'Extension provider name (CUSTOM action).' }) }),
    rules: {
      type: 'array',
      maxItems: 512,
      description:
        'A request matches when any rule matches; without rules the policy matches no request (an ALLOW policy without rules denies every request to what it selects).',
      items: obj({
        from: { type: 'array', maxItems: 512, items: obj({ source }) },
        to: { type: 'array', items: obj({ operation }) },
        when: {
          type: 'array',
          items: obj(
            { key: str(), values: strings(), notValues: strings() },
            { required: ['key'] },
          ),
        },
      }),
    },
  },
  { 'x-kubernetes-validations': [oneTargetKind] },
);

const mtlsMode = str({ enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] });
const peerAuthenticationSpec = obj(
  {
    selector,
    mtls: obj({
      mode: { ...mtlsMode, description: 'UNSET (inherit), DISABLE, PERMISSIVE or STRICT.' },
    }),
    portLevelMtls: {
      type: 'object',
      minProperties: 1,
      description: 'mTLS mode per workload port (needs a selector).',
      additionalProperties: obj({ mode: mtlsMode }),
      'x-kubernetes-validations': [
        rule(
          'self.all(key, 0 < int(key) && int(key) <= 65535)',
          'portLevelMtls keys must be ports from 1 to 65535',
        ),
      ],
    },
  },
  {
    'x-kubernetes-validations': [
      rule(
        'has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? self.selector.matchLabels : {}).size() > 0) : true',
        'portLevelMtls needs a selector with matchLabels',
      ),
    ],
  },
);

const httpUrl = str({
  minLength: 1,
  maxLength: 2048,
  'x-kubernetes-validations': [
    rule(
      'url(self).getScheme() in ["http", "https"]',
      'the JWKS URL must start with http:// or https://',
    ),
  ],
});
const nonEmpty = str({ minLength: 1 });
const jwtRule = obj(
  {
    issuer: str({
      minLength: 1,
      description: 'Issuer (iss claim) of the tokens this rule accepts.',
    }),
    audiences: strings(nonEmpty),
    jwksUri: { ...httpUrl, description: "URL of the issuer's public keys (JWKS)." },
    jwks_uri: httpUrl,
    jwks: str({ description: 'The public keys (JWKS) inline, as JSON.' }),
    fromHeaders: {
      type: 'array',
      items: obj({ name: nonEmpty, prefix: str() }, { required: ['name'] }),
    },
    fromParams: strings(nonEmpty),
    fromCookies: strings(nonEmpty),
    outputPayloadToHeader: str(),
    forwardOriginalToken: { type: 'boolean' },
    outputClaimToHeaders: {
      type: 'array',
      items: obj(
        { header: str({ minLength: 1, pattern: '^[-_A-Za-z0-9]+$' }), claim: nonEmpty },
        { required: ['header', 'claim'] },
      ),
    },
    spaceDelimitedClaims: strings(nonEmpty, { maxItems: 64 }),
    timeout: str({
      description: 'How long to wait for the JWKS fetch, e.g. 5s.',
      'x-kubernetes-validations': [
        rule(
          "duration(self) >= duration('1ms')",
          'timeout must be a duration of at least 1ms, such as 500ms or 5s',
        ),
      ],
    }),
    presence: str({ enum: ['OPTIONAL', 'REQUIRED'] }),
  },
  {
    'x-kubernetes-validations': [
      rule(
        '(has(self.jwksUri) ? 1 : 0) + (has(self.jwks_uri) ? 1 : 0) + (has(self.jwks) ? 1 : 0) <= 1',
        'set at most one of jwks, jwksUri and jwks_uri',
      ),
    ],
  },
);
const requestAuthenticationSpec = obj(
  { ...targetFields, jwtRules: { type: 'array', maxItems: 4096, items: jwtRule } },
  { 'x-kubernetes-validations': [oneTargetKind] },
);

// DestinationRule: the service-level traffic policy the waypoint applies is typed and validated;
// subsets, TLS settings, port-level settings and exportTo are kept as written (not read).
const count = (description) => ({ type: 'integer', format: 'int32', minimum: 0, description });
const duration = (what) =>
  str({
    description: `${what}, e.g. 1s or 500ms.`,
    'x-kubernetes-validations': [
      rule("duration(self) >= duration('1ms')", `${what} must be a duration of at least 1ms`),
    ],
  });
const kept = { 'x-kubernetes-preserve-unknown-fields': true };
const trafficPolicy = obj(
  {
    loadBalancer: obj(
      {
        simple: str({
          enum: [
            'UNSPECIFIED',
            'RANDOM',
            'PASSTHROUGH',
            'ROUND_ROBIN',
            'LEAST_REQUEST',
            'LEAST_CONN',
          ],
        }),
        consistentHash: obj(
          {
            httpHeaderName: nonEmpty,
            httpCookie: obj({ name: nonEmpty, path: str(), ttl: str() }, { required: ['name'] }),
            useSourceIp: { type: 'boolean' },
            httpQueryParameterName: nonEmpty,
            ringHash: obj({ minimumRingSize: { type: 'integer', minimum: 0 } }),
            maglev: obj({ tableSize: { type: 'integer', minimum: 0 } }),
            minimumRingSize: { type: 'integer', minimum: 0 },
          },
          kept,
        ),
      },
      kept,
    ),
    connectionPool: obj({
      tcp: obj(
        {
          maxConnections: count('Most connections to each host of the service.'),
          connectTimeout: duration('connectTimeout'),
        },
        kept,
      ),
      http: obj(
        {
          http1MaxPendingRequests: count('Most requests waiting for a connection.'),
          http2MaxRequests: count('Most requests in flight to the service.'),
          maxRequestsPerConnection: count('Requests per upstream connection (0: no limit).'),
          maxRetries: count('Most retries in flight to the service.'),
          idleTimeout: duration('idleTimeout'),
        },
        kept,
      ),
    }),
    outlierDetection: obj(
      {
        consecutive5xxErrors: count('5xx answers in a row that eject a host (0: off).'),
        consecutiveGatewayErrors: count('502/503/504 answers in a row that eject a host.'),
        consecutiveLocalOriginFailures: count('Connection failures in a row that eject a host.'),
        splitExternalLocalOriginErrors: { type: 'boolean' },
        interval: duration('interval'),
        baseEjectionTime: duration('baseEjectionTime'),
        maxEjectionPercent: { type: 'integer', minimum: 0, maximum: 100 },
        minHealthPercent: { type: 'integer', minimum: 0, maximum: 100 },
      },
      kept,
    ),
  },
  kept,
);
const destinationRuleSpec = obj(
  {
    host: str({
      minLength: 1,
      description: 'The service: its FQDN, <name>.<namespace>, a short name or a *. wildcard.',
    }),
    trafficPolicy,
    subsets: { type: 'array', items: { type: 'object', ...kept } },
    exportTo: strings(),
    workloadSelector: { type: 'object', ...kept },
  },
  { required: ['host'] },
);

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function crd({
  kind,
  plural,
  singular,
  shortName,
  description,
  spec,
  columns = [],
  group = 'security.istio.io',
  versions = ['v1', 'v1beta1'],
}) {
  const version = (name, storage) => ({
    name,
    served: true,
    storage,
    subresources: { status: {} },
    additionalPrinterColumns: [...columns, age],
    schema: {
      openAPIV3Schema: {
        type: 'object',
        description,
        required: ['spec'],
        properties: { spec, status },
      },
    },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${group}`,
      labels: { 'app.kubernetes.io/part-of': 'trellis', 'app.kubernetes.io/component': 'crds' },
    },
    spec: {
      group,
      scope: 'Namespaced',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular,
        shortNames: [shortName],
        categories: ['istio-io', `${group.split('.')[0]}-istio-io`],
      },
      versions: versions.map((v, i) => version(v, i === 0)),
    },
  };
}

const CRDS = {
  'authorizationpolicies.yaml': crd({
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    singular: 'authorizationpolicy',
    shortName: 'ap',
    description:
      'Access control for workloads: ALLOW, DENY or AUDIT requests by source, operation and conditions.',
    spec: authorizationPolicySpec,
    columns: [{ name: 'Action', type: 'string', jsonPath: '.spec.action' }],
  }),
  'peerauthentications.yaml': crd({
    kind: 'PeerAuthentication',
    plural: 'peerauthentications',
    singular: 'peerauthentication',
    shortName: 'pa',
    description: 'Whether workloads accept plaintext: mutual TLS STRICT, PERMISSIVE or DISABLE.',
    spec: peerAuthenticationSpec,
    columns: [{ name: 'Mode', type: 'string', jsonPath: '.spec.mtls.mode' }],
  }),
  'requestauthentications.yaml': crd({
    kind: 'RequestAuthentication',
    plural: 'requestauthentications',
    singular: 'requestauthentication',
    shortName: 'ra',
    description: 'Which JWTs workloads accept: issuers, their keys and where the token is found.',
    spec: requestAuthenticationSpec,
  }),
  'destinationrules.yaml': crd({
    kind: 'DestinationRule',
    plural: 'destinationrules',
    singular: 'destinationrule',
    shortName: 'dr',
    description:
      'Traffic policy of a service: load balancing, connection limits, outlier detection.',
    spec: destinationRuleSpec,
    columns: [{ name: 'Host', type: 'string', jsonPath: '.spec.host' }],
    group: 'networking.istio.io',
    versions: ['v1', 'v1beta1', 'v1alpha3'],
  }),
};

const HEADER = '# Generated by tools/crds/gen-crds.mjs; edit that file, then run it.\n';
const check = process.argv.includes('--check');
const stale = [];
for (const [file, doc] of Object.entries(CRDS)) {
  const path = join(OUT, file);
  const text = await format(
    HEADER + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }),
    { ...(await resolveConfig(path)), filepath: path },
  );
  if (check) {
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) stale.push(path);
  } else writeFileSync(path, text);
}
if (stale.length) {
  console.error(`out of date (run node tools/crds/gen-crds.mjs): ${stale.join(', ')}`);
  process.exit(1);
}
