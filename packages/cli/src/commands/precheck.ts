// `trellis precheck`: gathers facts from the cluster and reports what would stop an install.
import { EXIT } from '../cli/command-spec.js';
import { precheck as evaluate, type CheckResult } from '../install/precheck.pure.js';
import type { Kube } from '../kube/kube.js';
import { render } from '../output/format.pure.js';
import type { Handler } from './context.js';

export const precheck: Handler = async (ctx) => {
  const kube = await ctx.kube();
  const results = evaluate({
    serverVersion: await kube.serverVersion(),
    clusterAdmin: await canDoEverything(kube),
    nodes: await kube.list('v1', 'Node'),
    crds: await kube.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition'),
    deployments: await kube.list('apps/v1', 'Deployment'),
    daemonSets: await kube.list('apps/v1', 'DaemonSet'),
    mutatingWebhooks: await kube.list(
      'admissionregistration.k8s.io/v1',
      'MutatingWebhookConfiguration',
    ),
    namespaces: await kube.list('v1', 'Namespace'),
    tokenRequestServed: await servesTokenRequest(kube),
  });
  ctx.out(
    render(ctx.output(), results, results, [
      { header: 'check', value: (r: CheckResult) => r.check },
      { header: 'status', value: (r) => r.status.toUpperCase() },
      { header: 'message', value: (r) => r.message + (r.hint ? ` -> ${r.hint}` : '') },
    ]),
  );
  const failed = results.filter((r) => r.status === 'fail');
  if (ctx.output() === 'table')
    ctx.log(
      failed.length
        ? `${failed.length} check(s) failed: install would not succeed.`
        : 'Ready to install: trellis install',
    );
  return failed.length ? EXIT.problems : EXIT.ok;
};

async function canDoEverything(kube: Kube): Promise<boolean> {
  const review = await kube.json<{ status?: { allowed?: boolean } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: '*', group: '*', resource: '*' } },
      },
      what: 'SelfSubjectAccessReview',
    },
  );
  return review.status?.allowed === true;
}

async function servesTokenRequest(kube: Kube): Promise<boolean> {
  const core = await kube.json<{ resources: { name: string }[] }>('GET', '/api/v1');
  return core.resources.some((r) => r.name === 'serviceaccounts/token');
}
