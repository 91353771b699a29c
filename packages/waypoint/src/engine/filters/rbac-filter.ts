// envoy.filters.http.rbac at request time: the enforced rules decide (403 "RBAC: access denied"),
// shadow rules (Istio's dry-run policies) are only evaluated and reported in the log and as
// dynamic metadata (shadow_effective_policy_id / shadow_engine_result), as Envoy does.
import { headerSource } from '../convert/matchers.js';
import type { HttpFilterModel } from '../model/listener.js';
import type { AuthzInput } from '../rbac/input.js';
import { evaluateRbac } from '../rbac/compile.js';
import type { HttpFilterRuntime, LocalReply } from '../proxy/context.js';
import type { Exchange } from '../proxy/exchange.js';
import type { Logger } from '@trellis/core';

type RbacModel = Extract<HttpFilterModel, { kind: 'rbac' }>;

export function authzInput(ex: Exchange): AuthzInput {
  const r = ex.request;
  const c = ex.conn;
  return {
    headers: headerSource(r.headers, {
      method: r.method,
      path: r.path,
      authority: r.authority,
      scheme: r.scheme,
    }),
    urlPath: ex.urlPath,
    destinationIp: c.destinationAddress,
    destinationPort: c.destinationPort,
    directRemoteIp: c.sourceAddress,
    remoteIp: c.remoteAddress,
    ...(c.peerPrincipal ? { peerPrincipal: c.peerPrincipal } : {}),
    ...(c.sni ? { requestedServerName: c.sni } : {}),
    metadata: ex.metadata,
  };
}

export function rbacFilter(m: RbacModel, logger: Logger): HttpFilterRuntime {
  return {
    name: m.name,
    disabledByDefault: m.disabled,
    decode(ex: Exchange): LocalReply | undefined {
      const input = authzInput(ex);
      if (m.shadow) {
        const r = evaluateRbac(m.shadow, input);
        const md = ex.metadata.get(m.name) ?? {};
        md[`${m.shadowStatPrefix}shadow_engine_result`] = r.allowed ? 'allowed' : 'denied';
        if (r.policy !== undefined)
          md[`${m.shadowStatPrefix}shadow_effective_policy_id`] = r.policy;
        ex.metadata.set(m.name, md);
        logger.debug(
          { filter: m.name, dryRun: true, allowed: r.allowed, policy: r.policy, path: ex.urlPath },
          'RBAC shadow (dry-run) decision',
        );
      }
      if (!m.rules) return undefined;
      const r = evaluateRbac(m.rules, input);
      if (m.rules.action === 'log') return undefined;
      if (r.allowed) return undefined;
      return {
        status: 403,
        body: 'RBAC: access denied',
        flag: '-',
        details:
          r.policy !== undefined
            ? `rbac_access_denied_matched_policy[${r.policy}]`
            : 'rbac_access_denied_matched_policy[none]',
      };
    },
  };
}
