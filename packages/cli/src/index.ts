// Public surface of @trellis/cli.
export { parseClusterArgs, CLUSTER_HELP, type ClusterCommand } from './cluster-args.pure.js';
export { clusterCommand } from './cluster-command.js';
