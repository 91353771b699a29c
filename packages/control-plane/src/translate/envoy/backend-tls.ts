// BackendTLSPolicy (Gateway API v1) -> the TLS an ingress gateway originates to a Service port,
// and the policy's Accepted / ResolvedRefs decision that its status renders:
// - caCertificateRefs must be core ConfigMaps (else ResolvedRefs False, InvalidKind) in the
//   policy's namespace holding a PEM certificate in `ca.crt` (else InvalidCACertificateRef); when
//   none is usable the policy is not Accepted (NoValidCACertificate) and the targeted clusters
//   get no endpoints, so requests fail rather than go out without the TLS asked for. The usable ones are trusted
//   together, inline in the cluster's UpstreamTlsContext.
// - `wellKnownCACertificates: System` trusts the system roots; another value is Invalid.
// - `hostname` is the SNI; the certificate must carry one of `subjectAltNames` (Hostname: DNS,
//   URI), or the hostname when there are none.
// - Of the policies targeting the same Service and sectionName the oldest (then by namespace/name)
//   wins; the others are Conflicted. A policy naming the port (sectionName) wins over one naming
//   the whole Service. Targets other than core Services are ignored. Pure.
import { X509Certificate } from 'node:crypto';
import type { TransportSocket } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { oldestFirst } from '../../collections/meta.js';
import type { BackendTLSPolicy, CaConfigMap } from '../../model/backend-tls-policy.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import { upstreamTlsSocket, type UpstreamTlsOptions } from './client-tls.js';
import type { EnvoyState } from './state.js';

export interface PolicyCondition {
  readonly type: 'Accepted' | 'ResolvedRefs';
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface BackendTlsDecision {
  readonly policy: BackendTLSPolicy;
  /** `<namespace>/<name>` of the policy. */
  readonly key: string;
  readonly conditions: readonly [PolicyCondition, PolicyCondition];
  /** The services (`<namespace>/<name>`) it targets. */
  readonly services: readonly string[];
  /** Set when Accepted: what the targeted clusters originate. */
  readonly tls?: {
    readonly sni: string;
    readonly caPem?: string;
    readonly sans: readonly { uri: boolean; value: string }[];
  };
}

export interface BackendTlsPolicies {
  readonly decisions: readonly BackendTlsDecision[];
  /**
   * What a gateway cluster of `service` at `port` does: nothing when no policy targets it, the
   * TLS transport socket of the one that applies, or refused when that policy is not accepted
   * (the cluster then gets no endpoints: requests fail rather than go out without the TLS asked
   * for).
   */
  forCluster(
    service: Pick<ServiceInfo, 'namespace' | 'name'>,
    port: ServicePortInfo,
    http2: boolean,
    client?: UpstreamTlsOptions['inlineClient'],
  ): { socket: TransportSocket } | { refused: string; reason: string } | undefined;
}

const cache = new WeakMap<EnvoyState, BackendTlsPolicies>();

export function backendTlsPolicies(state: EnvoyState): BackendTlsPolicies {
  const known = cache.get(state);
  if (known) return known;
  const configMaps = new Map(
    (state.configMaps ?? []).map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]),
  );
  const ordered = [...(state.backendTLSPolicies ?? [])].sort(oldestFirst);
  // The winner per `<service>|<sectionName>`.
  const winners = new Map<string, string>();
  for (const p of ordered)
    for (const t of serviceTargets(p)) {
      const slot = `${p.metadata.namespace}/${t.name}|${t.sectionName ?? ''}`;
      if (!winners.has(slot)) winners.set(slot, keyOf(p));
    }
  const decisions = ordered.map((p) => decide(p, configMaps, winners));
  const byKey = new Map(decisions.map((d) => [d.key, d]));
  const result: BackendTlsPolicies = {
    decisions,
    forCluster(service, port, http2, client) {
      const key = `${service.namespace}/${service.name}`;
      const winner = winners.get(`${key}|${port.name}`) ?? winners.get(`${key}|`);
      const d = winner === undefined ? undefined : byKey.get(winner);
      if (!d) return undefined;
      if (!d.tls) return { refused: d.key, reason: d.conditions[0].reason };
      return {
        socket: upstreamTlsSocket({
          sni: d.tls.sni,
          ...(d.tls.caPem ? { ca: { case: 'inlineString', value: d.tls.caPem } } : {}),
          subjectAltNames: d.tls.sans,
          http2,
          ...(client ? { inlineClient: client } : {}),
        }),
      };
    },
  };
  cache.set(state, result);
  return result;
}

const keyOf = (p: BackendTLSPolicy) => `${p.metadata.namespace}/${p.metadata.name}`;
const serviceTargets = (p: BackendTLSPolicy) =>
  p.spec.targetRefs.filter((t) => t.group === '' && t.kind === 'Service');

const cond = (
  type: PolicyCondition['type'],
  status: boolean,
  reason: string,
  message: string,
): PolicyCondition => ({ type, status, reason, message });

function decide(
  p: BackendTLSPolicy,
  configMaps: ReadonlyMap<string, CaConfigMap>,
  winners: ReadonlyMap<string, string>,
): BackendTlsDecision {
  const key = keyOf(p);
  const ns = p.metadata.namespace;
  const targets = serviceTargets(p);
  const services = [...new Set(targets.map((t) => `${ns}/${t.name}`))];
  const v = p.spec.validation;
  const base = { policy: p, key, services };

  const pems: string[] = [];
  const refProblems: { reason: string; message: string }[] = [];
  for (const ref of v.caCertificateRefs) {
    if (ref.group !== '' || ref.kind !== 'ConfigMap') {
      refProblems.push({
        reason: 'InvalidKind',
        message: `caCertificateRef ${ref.group ? `${ref.group}/` : ''}${ref.kind} ${ref.name}: only core ConfigMaps are supported`,
      });
      continue;
    }
    const problem = caProblem(configMaps.get(`${ns}/${ref.name}`), `${ns}/${ref.name}`);
    if (problem) refProblems.push({ reason: 'InvalidCACertificateRef', message: problem });
    else pems.push(configMaps.get(`${ns}/${ref.name}`)!.caCrt!.trim());
  }
  const resolved =
    refProblems.length === 0
      ? cond('ResolvedRefs', true, 'ResolvedRefs', 'all caCertificateRefs resolved')
      : cond(
          'ResolvedRefs',
          false,
          refProblems[0]!.reason,
          refProblems.map((r) => r.message).join('; '),
        );
  const refused = (reason: string, message: string): BackendTlsDecision => ({
    ...base,
    conditions: [cond('Accepted', false, reason, message), resolved],
  });
  const system = v.wellKnownCACertificates;
  if (system !== undefined && system !== 'System')
    return refused('Invalid', `wellKnownCACertificates ${system} is not supported (System)`);
  if (system === undefined && pems.length === 0)
    return refused(
      'NoValidCACertificate',
      'no caCertificateRef holds a usable CA certificate; requests to the targeted Service ports fail',
    );
  if (targets.length === 0) return refused('TargetNotFound', 'no targetRef names a core Service');
  const lost = targets.find((t) => winners.get(`${ns}/${t.name}|${t.sectionName ?? ''}`) !== key);
  if (lost)
    return refused(
      'Conflicted',
      `an older BackendTLSPolicy targets Service ${ns}/${lost.name}${lost.sectionName ? ` port ${lost.sectionName}` : ''}`,
    );
  return {
    ...base,
    conditions: [cond('Accepted', true, 'Accepted', 'the policy is applied'), resolved],
    tls: {
      sni: v.hostname,
      ...(pems.length > 0 ? { caPem: pems.join('\n') + '\n' } : {}),
      sans:
        v.subjectAltNames.length > 0
          ? v.subjectAltNames.map((s) => ({ uri: s.type === 'URI', value: s.value }))
          : [{ uri: false, value: v.hostname }],
    },
  };
}

/** Why a ConfigMap cannot serve as a CA certificate, if it cannot. */
export function caProblem(cm: CaConfigMap | undefined, name: string): string | undefined {
  if (!cm) return `ConfigMap ${name} not found`;
  if (cm.caCrt === undefined) return `ConfigMap ${name} has no ca.crt`;
  const blocks = cm.caCrt.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return `ConfigMap ${name}: ca.crt holds no PEM certificate`;
  for (const b of blocks)
    try {
      new X509Certificate(b);
    } catch {
      return `ConfigMap ${name}: ca.crt holds a malformed certificate`;
    }
  return undefined;
}
