// L7 policy through the waypoint: RBAC (deny by path -> 403 "RBAC: access denied" while other paths
// pass, path templates, allow by the client's identity, dry-run never enforced) and JWT
// authentication (valid, expired, missing token; JWKS inline and from a URL that is fetched, cached,
// and whose failure is a 401, never an open door), with claims usable in policy.
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import { RBACSchema } from '@trellis/api/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { JwtAuthenticationSchema } from '@trellis/api/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { RBAC_Action } from '@trellis/api/gen/envoy/config/rbac/v3/rbac_pb.js';
import { UriTemplateMatchConfigSchema } from '@trellis/api/gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { httpBackend, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startFixture, type Fixture } from '../test-support/fixture.js';
import { testIssuer } from '../test-support/jwt.js';

const HBONE = testPort(41);
const C = 'outbound|80||api.default.svc.cluster.local';
const VIP = '10.96.3.1';

type Filters = Parameters<typeof listener>[0][number]['httpFilters'];

async function setup(
  t: TestContext,
  filters: Filters,
): Promise<{ f: Fixture; port: number; seen: { headers: http.IncomingHttpHeaders }[] }> {
  const bport = testPort(42);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [
        listener([
          {
            vip: VIP,
            port: 80,
            routes: 'api:80',
            httpFilters: filters ?? [],
            hcm: { normalizePath: true },
          },
        ]),
      ],
      routes: [
        routeConfig('api:80', [
          { name: 'api', domains: ['*'], routes: [forward('all', prefix('/'), C)] },
        ]),
      ],
      clusters: [cluster(C)],
      endpoints: [
        endpoints(C, [{ ip: '127.0.0.41', port: bport, identity: spiffe('default', 'api') }]),
      ],
    },
  });
  t.after(() => f.close());
  const b = await httpBackend(t, f.mesh, {
    ip: '127.0.0.41',
    port: bport,
    hbonePort: HBONE,
    name: 'api',
  });
  return { f, port: await f.sourcePort(VIP, 80), seen: b.seen };
}

const exact = (value: string) => ({ matchPattern: { case: 'exact' as const, value } });
const prefixM = (value: string) => ({ matchPattern: { case: 'prefix' as const, value } });

function rbac(
  name: string,
  action: RBAC_Action,
  policies: Record<string, unknown>,
  shadow = false,
) {
  const rules = { action, policies };
  return {
    name,
    configType: {
      case: 'typedConfig' as const,
      value: packAny(
        RBACSchema,
        create(
          RBACSchema,
          (shadow
            ? { shadowRules: rules, shadowRulesStatPrefix: 'istio_dry_run_deny_' }
            : { rules }) as never,
        ),
      ),
    },
  };
}

test('RBAC: a DENY by path answers 403 "RBAC: access denied" while other paths pass; ALLOW by identity', async (t) => {
  const { f, port } = await setup(t, [
    rbac('envoy.filters.http.rbac.deny', RBAC_Action.DENY, {
      'ns[default]-policy[no-admin]-rule[0]': {
        permissions: [
          {
            rule: { case: 'urlPath', value: { rule: { case: 'path', value: prefixM('/admin') } } },
          },
        ],
        principals: [{ identifier: { case: 'any', value: true } }],
      },
    }),
    rbac('envoy.filters.http.rbac.allow', RBAC_Action.ALLOW, {
      'ns[default]-policy[clients]-rule[0]': {
        permissions: [{ rule: { case: 'any', value: true } }],
        principals: [
          {
            identifier: {
              case: 'authenticated',
              value: { principalName: exact(spiffe('default', 'client')) },
            },
          },
        ],
      },
    }),
  ]);
  assert.equal((await request(port, { path: '/public' })).status, 200);
  const denied = await request(port, { path: '/admin/users' });
  assert.deepEqual([denied.status, denied.body], [403, 'RBAC: access denied']);
  const sneaky = await request(port, { path: '/public/../admin' });
  assert.equal(sneaky.status, 403, 'the path is normalised before policy');
  // Another identity is not allowed at all.
  const otherPort = await f.sourcePort(VIP, 80, spiffe('other', 'intruder'));
  assert.equal((await request(otherPort, { path: '/public' })).status, 403);
});

test("RBAC: Istio's path templates ({*} one segment, {**} the rest) deny what they match, on the normalised path", async (t) => {
  const template = (pathTemplate: string) => ({
    rule: {
      case: 'uriTemplate',
      value: {
        name: 'envoy.path.match.uri_template.uri_template_matcher',
        typedConfig: packAny(
          UriTemplateMatchConfigSchema,
          create(UriTemplateMatchConfigSchema, { pathTemplate }),
        ),
      },
    },
  });
  const { port } = await setup(t, [
    rbac('envoy.filters.http.rbac.deny', RBAC_Action.DENY, {
      'ns[default]-policy[templates]-rule[0]': {
        permissions: [
          {
            rule: {
              case: 'orRules',
              value: { rules: [template('/api/*/internal'), template('/debug/**')] },
            },
          },
        ],
        principals: [{ identifier: { case: 'any', value: true } }],
      },
    }),
  ]);
  const status = async (path: string) => (await request(port, { path })).status;
  assert.equal(await status('/api/v2/internal'), 403);
  assert.equal(await status('/api/v2/internal?full=1'), 403, 'the query is not part of the path');
  assert.equal(await status('/api/v2/x/../internal'), 403, 'normalised before policy');
  assert.equal(await status('/api/v2/beta/internal'), 200, '{*} is one segment');
  assert.equal(await status('/api/v2/internal/users'), 200, 'the whole path must match');
  assert.equal(await status('/debug/'), 403);
  assert.equal(await status('/debug/pprof/heap'), 403);
  assert.equal(await status('/debugger'), 200);
});

test('RBAC shadow rules (dry-run) are evaluated but never deny', async (t) => {
  const { port } = await setup(t, [
    rbac(
      'envoy.filters.http.rbac.deny',
      RBAC_Action.DENY,
      {
        'ns[default]-policy[dry]-rule[0]': {
          permissions: [{ rule: { case: 'any', value: true } }],
          principals: [{ identifier: { case: 'any', value: true } }],
        },
      },
      true,
    ),
  ]);
  assert.equal((await request(port, { path: '/x' })).status, 200);
});

function jwtFilter(providers: Record<string, unknown>) {
  const names = Object.keys(providers);
  return {
    name: 'envoy.filters.http.jwt_authn',
    configType: {
      case: 'typedConfig' as const,
      value: packAny(
        JwtAuthenticationSchema,
        create(JwtAuthenticationSchema, {
          providers: providers as never,
          rules: [
            {
              match: { pathSpecifier: { case: 'prefix', value: '/' } },
              requirementType: {
                case: 'requires',
                value: {
                  requiresType: {
                    case: 'requiresAny',
                    value: {
                      requirements: [
                        ...names.map((n) => ({
                          requiresType: { case: 'providerName' as const, value: n },
                        })),
                        { requiresType: { case: 'allowMissing' as const, value: {} } },
                      ],
                    },
                  },
                },
              },
            },
          ],
        }),
      ),
    },
  };
}

const requireIssuer = (issuerPrefix: string) =>
  rbac('envoy.filters.http.rbac.allow', RBAC_Action.ALLOW, {
    'ns[default]-policy[require-jwt]-rule[0]': {
      permissions: [{ rule: { case: 'any', value: true } }],
      principals: [
        {
          identifier: {
            case: 'metadata',
            value: {
              filter: 'istio_authn',
              path: [{ segment: { case: 'key', value: 'request.auth.principal' } }],
              value: { matchPattern: { case: 'stringMatch', value: prefixM(issuerPrefix) } },
            },
          },
        },
      ],
    },
  });

test('JWT: valid -> 200 (claims reach the backend), expired -> 401, missing -> 403 from the policy requiring a principal', async (t) => {
  const sso = testIssuer('https://sso.example.com');
  const { port, seen } = await setup(t, [
    jwtFilter({
      sso: {
        issuer: sso.issuer,
        audiences: ['api'],
        jwksSourceSpecifier: {
          case: 'localJwks',
          value: { specifier: { case: 'inlineString', value: sso.jwks } },
        },
        claimToHeaders: [{ headerName: 'x-jwt-sub', claimName: 'sub' }],
      },
    }),
    requireIssuer('https://sso.example.com/'),
  ]);
  const ok = await request(port, {
    headers: { authorization: `Bearer ${sso.token({ sub: 'alice', aud: 'api' })}` },
  });
  assert.equal(ok.status, 200);
  assert.equal(seen.at(-1)!.headers['x-jwt-sub'], 'alice');
  assert.equal(
    seen.at(-1)!.headers.authorization,
    undefined,
    'the token is not forwarded by default',
  );
  const expired = await request(port, {
    headers: {
      authorization: `Bearer ${sso.token({ sub: 'alice', aud: 'api' }, { expiresIn: -120 })}`,
    },
  });
  assert.deepEqual([expired.status, expired.body], [401, 'Jwt is expired']);
  assert.match(
    String(expired.headers['www-authenticate']),
    /^Bearer realm=".*", error="invalid_token"$/,
  );
  const wrongAud = await request(port, {
    headers: { authorization: `Bearer ${sso.token({ sub: 'alice', aud: 'other' })}` },
  });
  assert.deepEqual([wrongAud.status, wrongAud.body], [401, 'Audiences in Jwt are not allowed']);
  const forged = await request(port, {
    headers: {
      authorization: `Bearer ${testIssuer('https://sso.example.com').token({ sub: 'mallory', aud: 'api' })}`,
    },
  });
  assert.equal(forged.status, 401, 'a token signed by another key');
  const missing = await request(port);
  assert.deepEqual([missing.status, missing.body], [403, 'RBAC: access denied']);
});

test('JWT: keys from a JWKS URL are fetched and cached; while the fetch fails the answer is 401, never 200', async (t) => {
  const sso = testIssuer('https://sso.example.com');
  let fetches = 0;
  let fail = true;
  const jwksServer = http.createServer((_req, res) => {
    fetches++;
    if (fail) {
      res.statusCode = 500;
      res.end();
    } else res.end(sso.jwks);
  });
  jwksServer.listen(0, '127.0.0.1');
  await once(jwksServer, 'listening');
  t.after(() => jwksServer.close());
  const uri = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
  const provider = {
    issuer: sso.issuer,
    jwksSourceSpecifier: {
      case: 'remoteJwks',
      value: {
        httpUri: {
          uri,
          httpUpstreamType: { case: 'cluster', value: 'jwks' },
          timeout: { seconds: 1n },
        },
        cacheDuration: { seconds: 600n },
      },
    },
  };
  const { f, port } = await setup(t, [
    jwtFilter({ sso: provider }),
    requireIssuer('https://sso.example.com/'),
  ]);
  const auth = { authorization: `Bearer ${sso.token({ sub: 'a' })}` };
  const r = await request(port, { headers: auth });
  assert.deepEqual([r.status, r.body], [401, 'Jwks remote fetch is failed']);
  const dump = JSON.parse((await f.admin('/config_dump')).body) as {
    jwks: { uri: string; lastError?: string }[];
  };
  assert.match(dump.jwks[0]!.lastError!, /answered 500/);
  fail = false;
  await new Promise((res) => setTimeout(res, 1100)); // failures are retried at most once a second
  for (let i = 0; i < 3; i++) assert.equal((await request(port, { headers: auth })).status, 200);
  assert.equal(fetches, 2, 'one failed fetch, one good one, then the cache');
});
