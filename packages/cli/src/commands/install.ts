// `trellis install`: Gateway API CRDs when missing, server-side apply of the rendered manifests,
// prune of what an earlier install had and this one does not, then wait for the rollouts.
import { EXIT } from '../cli/command-spec.js';
import { applyAll, findInstalled, installedKinds, prune } from '../install/apply.js';
import { ensureGatewayApi } from '../install/gateway-api.js';
import { waitForRollouts } from '../install/rollout.js';
import { workloadProgress } from '../install/rollout-status.pure.js';
import { refOf } from '../kube/objects.pure.js';
import { CLI_VERSION, installManifests } from '../manifests/bundle.js';
import { NAMESPACE, VERSION_LABEL, workloadsOf } from '../manifests/render.pure.js';
import type { Profile } from '../manifests/values.pure.js';
import { valuesFlag } from './shared-flags.js';
import type { Handler } from './context.js';

export const install: Handler = async (ctx) => {
  const started = Date.now();
  const profile = ctx.flag<Profile>('profile');
  const values = valuesFlag(ctx);
  const dryRun = ctx.flag<boolean | undefined>('dry-run') === true;
  const objects = installManifests(profile, values);
  const kube = await ctx.kube();
  const version = await kube.serverVersion();
  ctx.log(
    `Installing Trellis ${CLI_VERSION} (profile ${profile}) on ${kube.server} (Kubernetes ${version.gitVersion})${dryRun ? ', dry run' : ''}`,
  );

  ctx.log(
    await ensureGatewayApi(kube, ctx.flag<string | undefined>('gateway-api-crds'), {
      dryRun,
      log: ctx.log,
    }),
  );

  const previous = dryRun
    ? []
    : await findInstalled(kube, installedKinds(installManifests('default', {})));
  const previousVersion = previous.find((o) => o.kind === 'Deployment')?.metadata?.labels?.[
    VERSION_LABEL
  ];
  if (previousVersion)
    ctx.log(
      previousVersion === objects[0]?.metadata?.labels?.[VERSION_LABEL]
        ? `Trellis ${previousVersion} is installed: re-applying`
        : `Upgrading Trellis ${previousVersion} in place`,
    );
  ctx.log(`Applying ${objects.length} objects (server-side apply)`);
  const applied = await applyAll(kube, objects, { dryRun, log: ctx.log });
  if (dryRun) {
    ctx.log(
      `Dry run: the API server accepted ${applied} of ${objects.length} objects${applied < objects.length ? ' (the others need CRDs or a namespace that the install creates)' : ''}; nothing was changed.`,
    );
    return EXIT.ok;
  }
  await prune(kube, previous, objects, ctx.log);

  const workloads = workloadsOf(objects);
  if (ctx.flag<boolean>('wait') === false) {
    ctx.log(`Applied; not waiting (check with: trellis status)`);
    return EXIT.ok;
  }
  ctx.log(
    `Waiting for ${workloads.length} rollouts (timeout ${Math.round(ctx.flag<number>('timeout') / 1000)}s)`,
  );
  await waitForRollouts(kube, workloads, { timeoutMs: ctx.flag<number>('timeout'), log: ctx.log });
  const summary = [];
  for (const w of workloads) {
    const live = await kube.get(refOf(w));
    const p = workloadProgress(live);
    summary.push(`${live.metadata.name} ${p.ready}/${p.desired}`);
  }
  ctx.log(
    `Trellis ${CLI_VERSION} is installed in ${NAMESPACE} and Ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${summary.join(', ')}`,
  );
  ctx.log('Enroll a namespace with: kubectl label namespace NAME istio.io/dataplane-mode=ambient');
  return EXIT.ok;
};
