// `trellis cluster create|delete|list|kubeconfig`: local clusters through @trellis/local-cluster,
// kind clusters through the kind binary and Docker (cluster/kind.ts).
import { readFileSync } from 'node:fs';
import {
  adminKubeconfigPath,
  clusterRssBytes,
  createCluster,
  deleteCluster,
  listClusters,
} from '@trellis/local-cluster';
import { EXIT, UsageError } from '../cli/command-spec.js';
import { lbRangeFlag } from './shared-flags.js';
import { kindCluster } from './cluster-kind.js';
import type { Handler } from './context.js';

export const cluster: Handler = async (ctx) => {
  const verb = ctx.inv.path[1];
  const name = ctx.flag<string>('name');
  if (ctx.flag<string>('provider') === 'kind') return kindCluster(ctx);
  if (ctx.flag<string | undefined>('image') !== undefined)
    throw new UsageError('--image is for --provider kind', ctx.inv.path);
  switch (verb) {
    case 'create': {
      const lbRange = lbRangeFlag(ctx);
      const started = Date.now();
      const c = await createCluster({
        name,
        nodes: ctx.flag<number>('nodes'),
        lbRange,
        log: (l) => ctx.log(`cluster ${name}: ${l}`),
      });
      const rss = await clusterRssBytes(name);
      ctx.log(
        `cluster ${c.name}: ${c.nodes} nodes Ready in ${((Date.now() - started) / 1000).toFixed(1)}s, ${(rss / 2 ** 20).toFixed(0)} MiB resident; LoadBalancer addresses from ${c.lbRange}`,
      );
      ctx.out(`${c.kubeconfig}\n`);
      return EXIT.ok;
    }
    case 'delete':
      await deleteCluster(name);
      ctx.log(`cluster ${name} deleted`);
      return EXIT.ok;
    case 'list':
      for (const c of listClusters())
        ctx.out(
          `${c.name}\t${c.nodes} nodes\t${c.running ? 'running' : 'stopped'}\t${c.apiServer}\t${c.kubeconfig}\tlb ${c.lbRange}\n`,
        );
      return EXIT.ok;
    case 'kubeconfig': {
      const path = adminKubeconfigPath(name);
      ctx.out(ctx.flag<boolean>('path') ? `${path}\n` : readFileSync(path, 'utf8'));
      return EXIT.ok;
    }
  }
  throw new Error(`unknown cluster command ${verb}`);
};
