// Envoy RBAC semantics: ALLOW/DENY/LOG decisions, every permission and principal kind, boolean
// combinators, IP ranges (v4, v6, mapped), metadata (request principals, claims), URI templates,
// and NACKs for what cannot be evaluated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import { RBAC_Action, RBACSchema } from '@trellis/api/gen/envoy/config/rbac/v3/rbac_pb.js';
import { UriTemplateMatchConfigSchema } from '@trellis/api/gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { headerSource } from '../convert/matchers.js';
import { Invalid } from '../convert/common.js';
import { compileRbac, evaluateRbac } from './compile.js';
import type { AuthzInput } from './input.js';

const ex = (value: string) => ({ matchPattern: { case: 'exact' as const, value } });
function engine(action: RBAC_Action, policies: Record<string, unknown>) {
  return compileRbac(create(RBACSchema, { action, policies } as never), 'rbac');
}
function input(
  o: Partial<AuthzInput> & { method?: string; path?: string; headers?: never } = {},
): AuthzInput {
  const path = o.urlPath ?? '/';
  return {
    headers: headerSource(['x-tenant', 'acme'], {
      method: o.method ?? 'GET',
      path,
      authority: 'cart.shop.svc.cluster.local:8080',
      scheme: 'http',
    }),
    urlPath: path,
    destinationIp: '10.96.0.1',
    destinationPort: 8080,
    directRemoteIp: '10.244.1.5',
    remoteIp: '192.168.7.9',
    peerPrincipal: 'spiffe://cluster.local/ns/shop/sa/frontend',
    metadata: new Map(),
    ...o,
  };
}
const any = { identifier: { case: 'any', value: true } };
const anyPerm = { rule: { case: 'any', value: true } };

test('ALLOW allows only what a policy matches; DENY denies what a policy matches; LOG never denies', () => {
  const p = {
    permissions: [
      {
        rule: {
          case: 'urlPath',
          value: {
            rule: { case: 'path', value: { matchPattern: { case: 'prefix', value: '/api/' } } },
          },
        },
      },
    ],
    principals: [any],
  };
  const allow = engine(RBAC_Action.ALLOW, { a: p });
  assert.deepEqual(evaluateRbac(allow, input({ urlPath: '/api/x' })), {
    allowed: true,
    policy: 'a',
  });
  assert.deepEqual(evaluateRbac(allow, input({ urlPath: '/web' })), { allowed: false });
  const deny = engine(RBAC_Action.DENY, { d: p });
  assert.deepEqual(evaluateRbac(deny, input({ urlPath: '/api/x' })), {
    allowed: false,
    policy: 'd',
  });
  assert.equal(evaluateRbac(deny, input({ urlPath: '/web' })).allowed, true);
  assert.equal(
    evaluateRbac(engine(RBAC_Action.LOG, { l: p }), input({ urlPath: '/api/x' })).allowed,
    true,
  );
  assert.equal(
    evaluateRbac(engine(RBAC_Action.ALLOW, {}), input()).allowed,
    false,
    'ALLOW without policies denies all',
  );
});

test('permissions: methods (headers), hosts, ports, port ranges, destination IP, and/or/not', () => {
  const e = engine(RBAC_Action.ALLOW, {
    p: {
      permissions: [
        {
          rule: {
            case: 'andRules',
            value: {
              rules: [
                {
                  rule: {
                    case: 'orRules',
                    value: {
                      rules: [
                        {
                          rule: {
                            case: 'header',
                            value: {
                              name: ':method',
                              headerMatchSpecifier: { case: 'stringMatch', value: ex('GET') },
                            },
                          },
                        },
                        {
                          rule: {
                            case: 'header',
                            value: {
                              name: ':method',
                              headerMatchSpecifier: { case: 'stringMatch', value: ex('HEAD') },
                            },
                          },
                        },
                      ],
                    },
                  },
                },
                {
                  rule: {
                    case: 'header',
                    value: {
                      name: ':authority',
                      headerMatchSpecifier: {
                        case: 'stringMatch',
                        value: {
                          matchPattern: { case: 'prefix', value: 'CART.shop' },
                          ignoreCase: true,
                        },
                      },
                    },
                  },
                },
                { rule: { case: 'destinationPortRange', value: { start: 8000, end: 9000 } } },
                {
                  rule: {
                    case: 'destinationIp',
                    value: { addressPrefix: '10.96.0.0', prefixLen: 16 },
                  },
                },
                {
                  rule: {
                    case: 'notRule',
                    value: {
                      rule: {
                        case: 'header',
                        value: {
                          name: 'x-tenant',
                          headerMatchSpecifier: { case: 'stringMatch', value: ex('evil') },
                        },
                      },
                    },
                  },
                },
              ],
            },
          },
        },
      ],
      principals: [any],
    },
  });
  assert.equal(evaluateRbac(e, input()).allowed, true);
  assert.equal(evaluateRbac(e, input({ method: 'POST' })).allowed, false);
  assert.equal(
    evaluateRbac(e, input({ destinationPort: 9000 })).allowed,
    false,
    'ranges are half-open',
  );
  assert.equal(evaluateRbac(e, input({ destinationIp: '10.97.0.1' })).allowed, false);
  assert.equal(e.usesHttp, true);
});

test('principals: SPIFFE ids, namespaces by regex, direct and remote IPs (v4, v6, IPv4-mapped), not', () => {
  const id = (m: object) => ({
    identifier: { case: 'authenticated', value: { principalName: m } },
  });
  const e = (principal: object) =>
    engine(RBAC_Action.ALLOW, { p: { permissions: [anyPerm], principals: [principal] } });
  assert.equal(
    evaluateRbac(e(id(ex('spiffe://cluster.local/ns/shop/sa/frontend'))), input()).allowed,
    true,
  );
  assert.equal(
    evaluateRbac(
      e(
        id({
          matchPattern: { case: 'safeRegex', value: { regex: 'spiffe://[^/]+/ns/shop/sa/[^/]+' } },
        }),
      ),
      input(),
    ).allowed,
    true,
  );
  assert.equal(
    evaluateRbac(
      e(
        id({
          matchPattern: { case: 'safeRegex', value: { regex: 'spiffe://[^/]+/ns/ops/sa/[^/]+' } },
        }),
      ),
      input(),
    ).allowed,
    false,
  );
  assert.equal(
    evaluateRbac(e(id(ex('x'))), input({ peerPrincipal: undefined })).allowed,
    false,
    'no mTLS peer: no identity',
  );
  const ip = (kind: string, addressPrefix: string, prefixLen: number) => ({
    identifier: { case: kind, value: { addressPrefix, prefixLen } },
  });
  assert.equal(evaluateRbac(e(ip('directRemoteIp', '10.244.0.0', 16)), input()).allowed, true);
  assert.equal(
    evaluateRbac(
      e(ip('directRemoteIp', '10.244.0.0', 16)),
      input({ directRemoteIp: '::ffff:10.244.3.3' }),
    ).allowed,
    true,
    'IPv4-mapped',
  );
  assert.equal(evaluateRbac(e(ip('remoteIp', '192.168.0.0', 16)), input()).allowed, true);
  assert.equal(
    evaluateRbac(e(ip('remoteIp', 'fd00::', 8)), input({ remoteIp: 'fd12::1' })).allowed,
    true,
  );
  assert.equal(
    evaluateRbac(e(ip('remoteIp', 'fd00::', 8)), input()).allowed,
    false,
    'families never match',
  );
  assert.equal(
    evaluateRbac(
      e({ identifier: { case: 'notId', value: ip('directRemoteIp', '10.244.0.0', 16) } }),
      input(),
    ).allowed,
    false,
  );
});

test('metadata principals: request principals and list-valued claims from istio_authn', () => {
  const md = new Map([
    [
      'istio_authn',
      {
        'request.auth.principal': 'https://sso/alice',
        'request.auth.claims': { groups: ['dev', 'buyers'] },
      },
    ],
  ]);
  const e = engine(RBAC_Action.ALLOW, {
    p: {
      permissions: [
        {
          rule: {
            case: 'metadata',
            value: {
              filter: 'istio_authn',
              path: [
                { segment: { case: 'key', value: 'request.auth.claims' } },
                { segment: { case: 'key', value: 'groups' } },
              ],
              value: {
                matchPattern: {
                  case: 'listMatch',
                  value: {
                    matchPattern: {
                      case: 'oneOf',
                      value: { matchPattern: { case: 'stringMatch', value: ex('buyers') } },
                    },
                  },
                },
              },
            },
          },
        },
      ],
      principals: [
        {
          identifier: {
            case: 'metadata',
            value: {
              filter: 'istio_authn',
              path: [{ segment: { case: 'key', value: 'request.auth.principal' } }],
              value: {
                matchPattern: {
                  case: 'stringMatch',
                  value: { matchPattern: { case: 'prefix', value: 'https://sso/' } },
                },
              },
            },
          },
        },
      ],
    },
  });
  assert.equal(evaluateRbac(e, input({ metadata: md as never })).allowed, true);
  assert.equal(evaluateRbac(e, input()).allowed, false, 'no token, no principal');
});

function template(pathTemplate: string) {
  return {
    rule: {
      case: 'uriTemplate',
      value: {
        name: 'uri-template',
        typedConfig: packAny(
          UriTemplateMatchConfigSchema,
          create(UriTemplateMatchConfigSchema, { pathTemplate }),
        ),
      },
    },
  };
}

test("URI templates (Istio's path templates) match whole segments, as Envoy does", () => {
  const deny = engine(RBAC_Action.DENY, {
    'admin-of-any-version': { permissions: [template('/api/*/admin')], principals: [any] },
    'all-files': { permissions: [template('/files/**')], principals: [any] },
  });
  const decide = (urlPath: string) => evaluateRbac(deny, input({ urlPath }));
  assert.deepEqual(decide('/api/v1/admin'), { allowed: false, policy: 'admin-of-any-version' });
  assert.deepEqual(decide('/api/v1/admin?x=1'), { allowed: false, policy: 'admin-of-any-version' });
  assert.equal(decide('/api/v1/v2/admin').allowed, true, 'one segment only');
  assert.equal(decide('/api//admin').allowed, true, 'not an empty segment');
  assert.equal(decide('/api/v1/admin/users').allowed, true, 'the whole path');
  assert.deepEqual(decide('/files/'), { allowed: false, policy: 'all-files' });
  assert.deepEqual(decide('/files/a/b/c.txt'), { allowed: false, policy: 'all-files' });
  assert.equal(decide('/files').allowed, true);
  assert.equal(deny.usesHttp, true, 'a TCP connection cannot satisfy it');
});

test('what cannot be evaluated is refused (NACK), not skipped', () => {
  assert.throws(
    () =>
      engine(RBAC_Action.ALLOW, {
        p: {
          permissions: [anyPerm],
          principals: [any],
          condition: { exprKind: { case: 'constExpr', value: {} } },
        },
      }),
    (e: unknown) => e instanceof Invalid && /CEL conditions are not supported/.test(e.message),
  );
  assert.throws(
    () =>
      engine(RBAC_Action.ALLOW, {
        p: { permissions: [{ rule: { case: 'uriTemplate', value: {} } }], principals: [any] },
      }),
    /uri_template\.typed_config: must be a envoy\.extensions\.path\.match\.uri_template\.v3\.UriTemplateMatchConfig/,
  );
  assert.throws(
    () =>
      engine(RBAC_Action.DENY, { p: { permissions: [template('/a/**/*')], principals: [any] } }),
    /uri_template\.typed_config\.path_template: "\/a\/\*\*\/\*": no glob may follow \*\*/,
  );
  assert.throws(
    () =>
      engine(RBAC_Action.ALLOW, {
        p: {
          permissions: [anyPerm],
          principals: [{ identifier: { case: 'filterState', value: {} } }],
        },
      }),
    /principal filterState is not supported/,
  );
  assert.throws(
    () => engine(RBAC_Action.ALLOW, { p: { permissions: [], principals: [any] } }),
    /at least one permission/,
  );
});
