// PeerAuthentications: mesh, namespace and workload mTLS modes, and how ambient enforces them.
//
// ztunnel only knows DENY/ALLOW Authorizations, so STRICT becomes "deny connections without a peer
// identity". As in Istio, one static policy `<root>/istio_converted_static_strict` carries that
// rule and each workload whose effective mode is STRICT lists it; a workload policy with port-level
// exceptions becomes its own `<ns>/converted_peer_authentication_<name>` that the workload lists
// instead. PERMISSIVE and DISABLE both mean "plaintext accepted" to ztunnel.
import type { MtlsModeName, PeerAuthentication } from '../model/istio-security.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import type { PeerAuthenticationInfo } from '../model/policy-info.js';
import { groupBy } from './index-by.js';
import { compareStrings, createdMs, nameOf, namespaceOf } from './meta.js';
import { isSubset, nonEmptyLabels } from './selector.js';

export const STATIC_STRICT_POLICY_NAME = 'istio_converted_static_strict';
export const CONVERTED_PEER_AUTHENTICATION_PREFIX = 'converted_peer_authentication_';

const MODES: readonly MtlsModeName[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

export function convertedPeerAuthenticationName(name: string): string {
  return CONVERTED_PEER_AUTHENTICATION_PREFIX + name;
}

export function derivePeerAuthentications(
  policies: readonly PeerAuthentication[],
  options: ResolvedMeshOptions,
): PeerAuthenticationInfo[] {
  const infos = policies.map((p) => peerAuthenticationInfo(p, options));
  const byNamespace = groupBy(infos, (i) => (i.level === 'workload' ? undefined : i.namespace));
  for (const info of infos) {
    if (info.level === 'workload')
      info.inheritsStrict = inheritedStrict(byNamespace, info.namespace, options);
  }
  return infos.sort((a, b) => compareStrings(a.key, b.key));
}

function peerAuthenticationInfo(
  p: PeerAuthentication,
  options: ResolvedMeshOptions,
): PeerAuthenticationInfo {
  const name = nameOf(p);
  const namespace = namespaceOf(p);
  const selector = nonEmptyLabels(p.spec.selector);
  const problems: string[] = [];
  if (p.spec.modeProblem)
    problems.push(`${p.spec.modeProblem}; the modes cannot be read, so it is STRICT until fixed`);
  const mode = parseMode(p.spec.mode, 'mtls.mode', problems);
  const portModes: PeerAuthenticationInfo['portModes'] = [];
  for (const [portText, value] of Object.entries(p.spec.portLevelMtls)) {
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      problems.push(`portLevelMtls key "${portText}" is not a port number`);
      continue;
    }
    portModes.push({ port, mode: parseMode(value, `portLevelMtls[${port}].mode`, problems) });
  }
  portModes.sort((a, b) => a.port - b.port);
  const level = !selector
    ? namespace === options.rootNamespace
      ? 'mesh'
      : 'namespace'
    : 'workload';
  // Istio ignores these in ambient: they neither set a mode nor produce a converted policy.
  const ignored = selector !== undefined && namespace === options.rootNamespace;
  if (ignored) {
    problems.push(
      'a PeerAuthentication with a selector in the root namespace is ignored in ambient mode',
    );
  }
  if (level !== 'workload' && portModes.length > 0) {
    problems.push('portLevelMtls needs a selector; it is ignored on a namespace or mesh policy');
  }
  const info: PeerAuthenticationInfo = {
    name,
    namespace,
    key: `${namespace}/${name}`,
    level,
    mode,
    portModes: level === 'workload' && !ignored ? portModes : [],
    createdMs: createdMs(p),
    inheritsStrict: false,
  };
  if (selector) info.selector = selector;
  if (problems.length) info.problem = problems.join('; ');
  return info;
}

function parseMode(value: string, field: string, problems: string[]): MtlsModeName {
  if (value === '') return 'UNSET';
  if ((MODES as readonly string[]).includes(value)) return value as MtlsModeName;
  problems.push(`${field} "${value}" is not one of ${MODES.join(', ')}; treated as UNSET`);
  return 'UNSET';
}

/** The oldest policy wins when several apply at the same level (Istio's conflict rule). */
function oldest(
  list: readonly PeerAuthenticationInfo[] | undefined,
): PeerAuthenticationInfo | undefined {
  let best: PeerAuthenticationInfo | undefined;
  for (const p of list ?? []) {
    if (
      !best ||
      p.createdMs < best.createdMs ||
      (p.createdMs === best.createdMs && p.key < best.key)
    )
      best = p;
  }
  return best;
}

function inheritedStrict(
  byNamespace: ReadonlyMap<string, PeerAuthenticationInfo[]>,
  namespace: string,
  options: ResolvedMeshOptions,
): boolean {
  const mesh = oldest(byNamespace.get(options.rootNamespace));
  const ns = namespace === options.rootNamespace ? undefined : oldest(byNamespace.get(namespace));
  let strict = mesh?.mode === 'STRICT';
  if (ns && ns.mode !== 'UNSET') strict = ns.mode === 'STRICT';
  return strict;
}

/** How a workload-level policy's ports differ from its own effective mode. */
export interface PortPlan {
  /** Effective mode for ports not listed: its own mode, or the inherited one when UNSET. */
  strict: boolean;
  /** Listed ports that are STRICT while the rest is not. */
  strictPorts: number[];
  /** Listed ports that accept plaintext while the rest is STRICT. */
  plaintextPorts: number[];
}

export function portPlan(pa: PeerAuthenticationInfo): PortPlan {
  const strict = pa.mode === 'STRICT' || (pa.mode === 'UNSET' && pa.inheritsStrict);
  const plan: PortPlan = { strict, strictPorts: [], plaintextPorts: [] };
  for (const { port, mode } of pa.portModes) {
    const portStrict = mode === 'UNSET' ? strict : mode === 'STRICT';
    if (portStrict === strict) continue;
    (portStrict ? plan.strictPorts : plan.plaintextPorts).push(port);
  }
  return plan;
}

/** True when the policy must be sent as its own converted Authorization. */
export function needsConvertedPolicy(pa: PeerAuthenticationInfo): boolean {
  if (pa.level !== 'workload') return false;
  const plan = portPlan(pa);
  return plan.strictPorts.length > 0 || plan.plaintextPorts.length > 0;
}

/** Answers "which PeerAuthentication-derived policies does this workload list?". */
export interface PeerAuthenticationIndex {
  policiesFor(namespace: string, labels: Record<string, string>): string[];
}

export function peerAuthenticationIndex(
  infos: readonly PeerAuthenticationInfo[],
  options: ResolvedMeshOptions,
): PeerAuthenticationIndex {
  const byNamespace = groupBy(infos, (i) => (i.level === 'workload' ? undefined : i.namespace));
  const workloadLevel = groupBy(infos, (i) =>
    i.level === 'workload' && i.namespace !== options.rootNamespace ? i.namespace : undefined,
  );
  const staticStrict = `${options.rootNamespace}/${STATIC_STRICT_POLICY_NAME}`;
  return {
    policiesFor(namespace, labels) {
      const inherited = inheritedStrict(byNamespace, namespace, options);
      const own = oldest(
        workloadLevel.get(namespace)?.filter((p) => isSubset(p.selector ?? {}, labels)),
      );
      if (!own) return inherited ? [staticStrict] : [];
      if (needsConvertedPolicy(own))
        return [`${own.namespace}/${convertedPeerAuthenticationName(own.name)}`];
      return portPlan(own).strict ? [staticStrict] : [];
    },
  };
}
