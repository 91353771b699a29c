// `trellis analyze`: reads the mesh's objects and reports the mistakes of mesh/analyze.pure.ts.
import { EXIT } from '../cli/command-spec.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { NAMESPACE } from '../manifests/render.pure.js';
import { analyze as findProblems, type Finding } from '../mesh/analyze.pure.js';
import { render } from '../output/format.pure.js';
import type { Handler } from './context.js';

export const analyze: Handler = async (ctx) => {
  const kube = await ctx.kube();
  const namespace = ctx.flag<string | undefined>('namespace');
  // Analysing a namespace that is not there would find nothing and say "No problems found".
  if (namespace && !(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })))
    throw new Error(`namespace ${namespace} does not exist (-n)`);
  const list = (apiVersion: string, kind: string) => kube.list(apiVersion, kind);
  const cp = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: NAMESPACE,
    name: 'trellis-control-plane',
  });
  const rootNamespace =
    (cp?.spec?.template?.spec?.containers?.[0]?.env ?? []).find(
      (e: KubeObject) => e.name === 'ROOT_NAMESPACE',
    )?.value ?? NAMESPACE;
  const agent = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    namespace: NAMESPACE,
    name: 'trellis-cni-node',
  });
  const findings = findProblems(
    {
      rootNamespace,
      namespaces: await list('v1', 'Namespace'),
      pods: await list('v1', 'Pod'),
      services: await list('v1', 'Service'),
      authorizationPolicies: await list('security.istio.io/v1', 'AuthorizationPolicy'),
      peerAuthentications: await list('security.istio.io/v1', 'PeerAuthentication'),
      requestAuthentications: await list('security.istio.io/v1', 'RequestAuthentication'),
      gateways: await list('gateway.networking.k8s.io/v1', 'Gateway'),
      httpRoutes: await list('gateway.networking.k8s.io/v1', 'HTTPRoute'),
      grpcRoutes: await list('gateway.networking.k8s.io/v1', 'GRPCRoute'),
      cniAgentPods: agent
        ? await kube.list('v1', 'Pod', {
            namespace: NAMESPACE,
            labelSelector: 'app=trellis-cni-node',
          })
        : undefined,
    },
    namespace,
  );
  ctx.out(
    render(
      ctx.output(),
      findings,
      findings,
      [
        { header: 'code', value: (f: Finding) => f.code },
        { header: 'severity', value: (f) => f.severity.toUpperCase() },
        { header: 'object', value: (f) => f.object },
        { header: 'problem', value: (f) => `${f.message}. Fix: ${f.fix}` },
      ],
      'No problems found.\n',
    ),
  );
  return findings.length ? EXIT.problems : EXIT.ok;
};
