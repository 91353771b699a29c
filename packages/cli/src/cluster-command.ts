// `trellis cluster ...`: local clusters through @trellis/local-cluster; kind needs Docker.
import { readFileSync } from 'node:fs';
import {
  adminKubeconfigPath,
  clusterRssBytes,
  createCluster,
  deleteCluster,
  listClusters,
} from '@trellis/local-cluster';
import { CLUSTER_HELP, parseClusterArgs } from './cluster-args.pure.js';

export async function clusterCommand(argv: string[]): Promise<number> {
  const cmd = parseClusterArgs(argv);
  if (cmd.verb === 'help') {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  if (cmd.provider === 'kind')
    throw new Error('the kind provider requires Docker; see deploy/kind');
  switch (cmd.verb) {
    case 'create': {
      const started = Date.now();
      const c = await createCluster({
        name: cmd.name,
        nodes: cmd.nodes,
        log: (l) => console.error(`cluster ${cmd.name}: ${l}`),
      });
      const rss = await clusterRssBytes(cmd.name);
      console.error(
        `cluster ${c.name}: ${c.nodes} nodes Ready in ${((Date.now() - started) / 1000).toFixed(1)}s, ${(rss / 2 ** 20).toFixed(0)} MiB resident`,
      );
      console.log(c.kubeconfig);
      return 0;
    }
    case 'delete':
      await deleteCluster(cmd.name);
      console.error(`cluster ${cmd.name} deleted`);
      return 0;
    case 'list':
      for (const c of listClusters())
        console.log(
          `${c.name}\t${c.nodes} nodes\t${c.running ? 'running' : 'stopped'}\t${c.apiServer}\t${c.kubeconfig}`,
        );
      return 0;
    case 'kubeconfig': {
      const path = adminKubeconfigPath(cmd.name);
      process.stdout.write(cmd.path ? `${path}\n` : readFileSync(path, 'utf8'));
      return 0;
    }
  }
}
