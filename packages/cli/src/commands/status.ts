// `trellis status` (alias verify-install): is every component installed, current and Ready?
import { EXIT } from '../cli/command-spec.js';
import { installedGatewayApi } from '../install/gateway-api.js';
import { verifyInstall, type ObjectCheck } from '../install/verify.pure.js';
import { refKey, refOf, type KubeObject } from '../kube/objects.pure.js';
import { CLI_VERSION, installManifests } from '../manifests/bundle.js';
import { INSTALL_RECORD, NAMESPACE, readInstallRecord } from '../manifests/render.pure.js';
import { render } from '../output/format.pure.js';
import type { Handler } from './context.js';

export const status: Handler = async (ctx) => {
  const kube = await ctx.kube();
  // What the last install asked for (its record), else the default profile.
  const record = readInstallRecord(
    await kube.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: NAMESPACE,
      name: INSTALL_RECORD,
    }),
  );
  const cp = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: NAMESPACE,
    name: 'trellis-control-plane',
  });
  const profile = record?.profile ?? 'default';
  const expected = installManifests(profile, record?.values ?? {});
  const live = new Map<string, KubeObject>();
  for (const want of expected) {
    const have = await kube.get(refOf(want));
    if (have)
      live.set(refKey(refOf(want)), { apiVersion: want.apiVersion, kind: want.kind, ...have });
  }
  const checks: ObjectCheck[] = verifyInstall(expected, live);
  const gw = await installedGatewayApi(kube);
  checks.unshift(
    gw
      ? { component: 'gateway-api', object: 'Gateway API CRDs', state: 'ok', detail: gw.version }
      : {
          component: 'gateway-api',
          object: 'Gateway API CRDs',
          state: 'missing',
          detail: 'trellis install applies them',
        },
  );
  const problems = checks.filter((c) => c.state !== 'ok');
  const value = {
    cliVersion: CLI_VERSION,
    profile,
    settings: record?.values ?? {},
    installed: Boolean(cp),
    ready: problems.length === 0,
    checks,
  };
  ctx.out(
    render(ctx.output(), value, checks, [
      { header: 'component', value: (c) => c.component },
      { header: 'object', value: (c) => c.object },
      { header: 'state', value: (c) => c.state.toUpperCase() },
      { header: 'detail', value: (c) => c.detail },
    ]),
  );
  if (ctx.output() === 'table')
    ctx.log(
      !cp
        ? 'Trellis is not installed (trellis install).'
        : problems.length
          ? `${problems.length} problem(s): ${problems.map((p) => `${p.object} ${p.state}`).join('; ')}`
          : `Trellis ${CLI_VERSION} (profile ${value.profile}) is installed and Ready.`,
    );
  return problems.length ? EXIT.problems : EXIT.ok;
};
