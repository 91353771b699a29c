// Parses `trellis cluster <verb> [flags]` into a typed command, or an error that says what is wrong.

export type ClusterCommand =
  | { verb: 'help' }
  | { verb: 'create'; provider: 'local' | 'kind'; name: string; nodes: number }
  | { verb: 'delete'; provider: 'local' | 'kind'; name: string }
  | { verb: 'list'; provider: 'local' | 'kind' }
  | { verb: 'kubeconfig'; provider: 'local' | 'kind'; name: string; path: boolean };

export const CLUSTER_HELP = `Usage: trellis cluster <command> [flags]

Commands:
  create      create a cluster and wait until its nodes are Ready
  delete      delete a cluster and everything it created on this host
  list        list clusters
  kubeconfig  print the admin kubeconfig of a cluster (--path prints its file name)

Flags:
  --provider local|kind   where the cluster runs (default local: real control plane + netns nodes, needs root)
  --name NAME             cluster name (default trellis)
  --nodes N               number of nodes for create (default 2)
  --path                  kubeconfig: print the file path instead of the content
  -h, --help              show this help
`;

const VERBS = ['create', 'delete', 'list', 'kubeconfig'] as const;

export function parseClusterArgs(argv: string[]): ClusterCommand {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv[0] === 'help')
    return { verb: 'help' };
  const [verb, ...rest] = argv as [string, ...string[]];
  if (!(VERBS as readonly string[]).includes(verb))
    throw new Error(`unknown cluster command "${verb}"; expected one of ${VERBS.join(', ')}`);
  const flags: Record<string, string> = {};
  let path = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--path' && verb === 'kubeconfig') {
      path = true;
      continue;
    }
    const m = /^--(provider|name|nodes)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown flag "${a}" for cluster ${verb}`);
    const value = m[2] ?? rest[++i];
    if (value === undefined || value.startsWith('--'))
      throw new Error(`flag --${m[1]} needs a value`);
    flags[m[1]!] = value;
  }
  const provider = flags.provider ?? 'local';
  if (provider !== 'local' && provider !== 'kind')
    throw new Error(`unknown provider "${provider}"; expected local or kind`);
  const name = flags.name ?? 'trellis';
  if (flags.nodes !== undefined && verb !== 'create')
    throw new Error(`--nodes applies to cluster create only`);
  switch (verb) {
    case 'create': {
      const nodes = flags.nodes === undefined ? 2 : Number(flags.nodes);
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50)
        throw new Error(`--nodes must be an integer from 1 to 50, got "${flags.nodes}"`);
      return { verb, provider, name, nodes };
    }
    case 'delete':
      return { verb, provider, name };
    case 'list':
      return { verb, provider };
    case 'kubeconfig':
      return { verb, provider, name, path };
  }
  throw new Error(`unknown cluster command "${verb}"`);
}
