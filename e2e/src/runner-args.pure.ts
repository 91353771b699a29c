// `npm run e2e -- [flags]`: the runner's flags, checked.

export interface RunnerOptions {
  readonly help: boolean;
  readonly provider: 'local' | 'kind';
  readonly nodes: number;
  /** Use this cluster instead of creating one (it is left in place). */
  readonly kubeconfig: string | undefined;
  readonly keep: boolean;
  readonly profile: 'default' | 'minimal';
  readonly installTimeout: string;
  /** Only scenarios whose name matches. */
  readonly only: RegExp | undefined;
  readonly runSkipped: boolean;
}

export const RUNNER_HELP = `Usage: npm run e2e -- [flags]

Creates a cluster, installs Trellis with the CLI, deploys the sample (e2e/sample), runs the
scenario suites (install, mtls, policy, enrollment, resilience, waypoint, ingress, uninstall) and deletes
the cluster.
A test that needs what the cluster cannot do is skipped, saying what is missing, and fails the run.

Flags:
  --provider local|kind   where the cluster runs (default local: netns nodes on this host, root;
                          kind: Docker containers, through trellis cluster create --provider kind,
                          with the images of deploy/images/build.sh loaded into the nodes and
                          trellis install --set images.pullPolicy=Never)
  --nodes N               nodes of the created cluster (default 2, at least 2)
  --kubeconfig FILE       use this cluster instead of creating one (left in place)
  --keep                  keep the created cluster (prints its kubeconfig)
  --profile default|minimal  install profile (default default)
  --install-timeout D     trellis install --timeout (default 150s)
  --only REGEX            run only the scenarios whose name matches
  --run-skipped           run the tests whose capability is missing anyway (to see how they fail)
  -h, --help              this help
`;

/** What `trellis install` gets beyond the runner's own arguments on each provider: on kind the
 * images are the ones loaded into the nodes, never pulled (there may be no registry). */
export function providerInstallArgs(provider: 'local' | 'kind'): string[] {
  return provider === 'kind' ? ['--set', 'images.pullPolicy=Never'] : [];
}

/** `--nodes`: an integer from `min` to 10 (shared with the conformance runner). */
export function nodesFlag(v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > 10)
    throw new Error(`--nodes must be an integer from ${min} to 10, got "${v}"`);
  return n;
}

/** A Go-style duration such as 150s or 5m (what trellis install --timeout takes). */
export const DURATION = /^(\d+(ms|s|m|h))+$/;

/** `--install-timeout`: a duration. */
export function installTimeoutFlag(v: string): string {
  if (!DURATION.test(v))
    throw new Error(`--install-timeout must be a duration such as 150s or 5m, got "${v}"`);
  return v;
}

export function parseRunnerArgs(argv: readonly string[]): RunnerOptions {
  const o = {
    help: false,
    provider: 'local' as 'local' | 'kind',
    nodes: 2,
    kubeconfig: undefined as string | undefined,
    keep: false,
    profile: 'default' as 'default' | 'minimal',
    installTimeout: '150s',
    only: undefined as RegExp | undefined,
    runSkipped: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--provider': {
        const v = value();
        if (v !== 'local' && v !== 'kind')
          throw new Error(`--provider must be local or kind, got "${v}"`);
        o.provider = v;
        break;
      }
      case '--nodes':
        o.nodes = nodesFlag(value(), 2);
        break;
      case '--kubeconfig':
        o.kubeconfig = value();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--profile': {
        const v = value();
        if (v !== 'default' && v !== 'minimal')
          throw new Error(`--profile must be default or minimal, got "${v}"`);
        o.profile = v;
        break;
      }
      case '--install-timeout':
        o.installTimeout = installTimeoutFlag(value());
        break;
      case '--only': {
        const v = value();
        try {
          o.only = new RegExp(v);
        } catch {
          throw new Error(`--only must be a regular expression, got "${v}"`);
        }
        break;
      }
      case '--run-skipped':
        o.runSkipped = true;
        break;
      default:
        throw new Error(`unknown flag "${a}"`);
    }
  }
  return o;
}
