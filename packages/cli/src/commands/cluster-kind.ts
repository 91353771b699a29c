// `trellis cluster create|delete|list|kubeconfig --provider kind`.
import { EXIT, UsageError } from '../cli/command-spec.js';
import { kindNameProblem, meshImages } from '../cluster/kind-plan.pure.js';
import {
  createKindCluster,
  deleteKindCluster,
  kindKubeconfig,
  listKindClusters,
} from '../cluster/kind.js';
import { kindLbRange } from '../cluster/kind-lb.js';
import { CLI_VERSION } from '../manifests/bundle.js';
import { lbRangeFlag } from './shared-flags.js';
import type { Context } from './context.js';

export async function kindCluster(ctx: Context): Promise<number> {
  const verb = ctx.inv.path[1];
  const name = ctx.flag<string>('name');
  if (verb !== 'list') {
    const problem = kindNameProblem(name);
    if (problem) throw new UsageError(problem, ctx.inv.path);
  }
  switch (verb) {
    case 'create': {
      const lbRange = lbRangeFlag(ctx);
      const started = Date.now();
      const nodes = ctx.flag<number>('nodes');
      const c = await createKindCluster({
        name,
        nodes,
        image: ctx.flag<string | undefined>('image'),
        load: ctx.flag<boolean>('load-images') ? meshImages(CLI_VERSION) : [],
        lbRange,
        log: (l) => ctx.log(`cluster ${name}: ${l}`),
      });
      ctx.log(
        `cluster ${name} (kind, ${c.image}): ${nodes} nodes Ready in ${((Date.now() - started) / 1000).toFixed(1)}s; ${c.lbRange ? `LoadBalancer addresses from ${c.lbRange}` : 'no LoadBalancer addresses'}`,
      );
      ctx.out(`${c.kubeconfig}\n`);
      return EXIT.ok;
    }
    case 'delete':
      await deleteKindCluster(name, ctx.log);
      ctx.log(`cluster ${name} deleted`);
      return EXIT.ok;
    case 'list':
      for (const c of listKindClusters())
        ctx.out(
          `${c.name}\t${c.nodes} nodes\t${c.running ? 'running' : 'stopped'}\tkind\t${c.kubeconfig}\tlb ${kindLbRange(c.name) ?? 'none'}\n`,
        );
      return EXIT.ok;
    case 'kubeconfig': {
      const k = kindKubeconfig(name);
      ctx.out(ctx.flag<boolean>('path') ? `${k.path}\n` : k.text);
      return EXIT.ok;
    }
  }
  throw new Error(`unknown cluster command ${verb}`);
}
