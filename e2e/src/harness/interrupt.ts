// Ctrl-C (SIGINT) or SIGTERM while a cluster exists: delete it before exiting, so nothing (netns,
// mounts, processes) is left behind. Returns a function that removes the handler.
import { deleteCluster } from '@trellis/local-cluster';

export function deleteClusterOnInterrupt(name: string, log: (l: string) => void): () => void {
  let deleting = false;
  const handler = (signal: NodeJS.Signals) => {
    if (deleting) return;
    deleting = true;
    log(`${signal}: deleting cluster ${name}`);
    deleteCluster(name, { quiet: true }).then(
      () => process.exit(130),
      (e: Error) => {
        log(
          `could not delete cluster ${name}: ${e.message}; run trellis cluster delete --name ${name}`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
