// `npm run conformance -- [flags]`: the conformance runner's flags, checked.
import { isIP } from '@trellis/core';
import { DURATION, installTimeoutFlag, nodesFlag } from '../runner-args.pure.js';

/** The profiles of the upstream suite (v1.6.1) that Trellis aims at. */
export const TRELLIS_PROFILES = [
  'GATEWAY-HTTP',
  'GATEWAY-GRPC',
  'GATEWAY-TLS',
  'MESH-HTTP',
  'MESH-GRPC',
] as const;
/** Every profile the suite knows (others than ours are accepted, to see how they fare). */
export const SUITE_PROFILES: readonly string[] = [
  ...TRELLIS_PROFILES,
  'GATEWAY-TCP',
  'GATEWAY-UDP',
];

export interface ConformanceOptions {
  readonly help: boolean;
  readonly profiles: readonly string[];
  /** Use this cluster instead of creating one (left in place). */
  readonly kubeconfig: string | undefined;
  /** With --kubeconfig: Trellis is installed already, do not run `trellis install`. */
  readonly skipInstall: boolean;
  readonly keep: boolean;
  readonly nodes: number;
  readonly gatewayClass: string;
  readonly installTimeout: string;
  /** Run only this test (the suite's -run-test; its profile's report is then partial). */
  readonly runTest: string | undefined;
  /** Where the report goes (default conformance/reports/<gateway-api>-trellis-<version>.yaml). */
  readonly report: string | undefined;
  readonly debug: boolean;
  /** The suite's -timeout-config-overrides, e.g. "MaxTimeToConsistency=60s". */
  readonly timeouts: string | undefined;
  /** Only the profiles' core features (extended tests reported as unsupported). */
  readonly coreOnly: boolean;
  /** GatewayStaticAddresses' usable and unusable address (default, on a created cluster: from its load-balancer range). */
  readonly usableAddress: string | undefined;
  readonly unusableAddress: string | undefined;
}

export const CONFORMANCE_HELP = `Usage: npm run conformance -- [flags]

Runs the Gateway API conformance suite (sigs.k8s.io/gateway-api/conformance v1.6.1, built by
tools/go-tool.sh tools/conformance) against Trellis: creates a local cluster, installs Trellis with
the CLI (experimental Gateway API channel), runs the suite with GatewayClass trellis and the
supported features Trellis declares, writes the ConformanceReport, prints passed/failed/skipped
per profile and deletes the cluster. Mesh profiles run in namespaces enrolled in ambient mode whose
services use one shared waypoint (namespace trellis-conformance).

Flags:
  --profiles P1,P2,...    profiles to run (default ${TRELLIS_PROFILES.join(',')})
  --kubeconfig FILE       use this cluster instead of creating one (left in place)
  --skip-install          with --kubeconfig: Trellis is installed already
  --keep                  keep the created cluster (prints its kubeconfig)
  --nodes N               nodes of the created cluster (default 2)
  --gateway-class NAME    the ingress GatewayClass (default trellis)
  --install-timeout D     trellis install --timeout (default 150s)
  --run-test NAME         run only this test of the suite
  --report FILE           where the report goes (default conformance/reports/<gateway-api>-trellis-<version>.yaml;
                          with --run-test or --core-only: e2e/.test-results/conformance-report.yaml)
  --timeouts K=D;...      the suite's timeout overrides, e.g. "MaxTimeToConsistency=60s"
  --core-only             declare only the profiles' core features (a fast subset)
  --usable-address IP     an address the cluster's load balancer gives a Gateway that asks for it
  --unusable-address IP   one it refuses (both for GatewayStaticAddresses; default on a created
                          cluster: the top of its load-balancer range and the address below it)
  --debug                 the suite's debug logs (requests and responses)
  -h, --help              this help
`;

const TEST_NAME = /^[A-Za-z0-9]+$/;

export function parseConformanceArgs(argv: readonly string[]): ConformanceOptions {
  const o = {
    help: false,
    profiles: [...TRELLIS_PROFILES] as readonly string[],
    kubeconfig: undefined as string | undefined,
    skipInstall: false,
    keep: false,
    nodes: 2,
    gatewayClass: 'trellis',
    installTimeout: '150s',
    runTest: undefined as string | undefined,
    report: undefined as string | undefined,
    debug: false,
    timeouts: undefined as string | undefined,
    coreOnly: false,
    usableAddress: undefined as string | undefined,
    unusableAddress: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--profiles': {
        const list = value()
          .split(',')
          .map((p) => p.trim().toUpperCase())
          .filter(Boolean);
        const unknown = list.filter((p) => !SUITE_PROFILES.includes(p));
        if (list.length === 0 || unknown.length)
          throw new Error(
            `--profiles: unknown profile ${unknown.join(', ') || '(none given)'}; known: ${SUITE_PROFILES.join(', ')}`,
          );
        o.profiles = [...new Set(list)];
        break;
      }
      case '--kubeconfig':
        o.kubeconfig = value();
        break;
      case '--skip-install':
        o.skipInstall = true;
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--nodes':
        o.nodes = nodesFlag(value(), 1);
        break;
      case '--gateway-class': {
        const v = value();
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v))
          throw new Error(`--gateway-class must be a Kubernetes object name, got "${v}"`);
        o.gatewayClass = v;
        break;
      }
      case '--install-timeout':
        o.installTimeout = installTimeoutFlag(value());
        break;
      case '--run-test': {
        const v = value();
        if (!TEST_NAME.test(v))
          throw new Error(`--run-test must be a test's short name such as MeshBasic, got "${v}"`);
        o.runTest = v;
        break;
      }
      case '--report':
        o.report = value();
        break;
      case '--timeouts': {
        const v = value();
        const bad = v
          .split(';')
          .filter(Boolean)
          .filter((kv) => !/^[A-Za-z]+=/.test(kv) || !DURATION.test(kv.split('=')[1]!));
        if (bad.length)
          throw new Error(`--timeouts takes Name=duration pairs separated by ";", got "${bad[0]}"`);
        o.timeouts = v;
        break;
      }
      case '--debug':
        o.debug = true;
        break;
      case '--core-only':
        o.coreOnly = true;
        break;
      case '--usable-address':
      case '--unusable-address': {
        const v = value();
        if (!isIP(v)) throw new Error(`${a} must be an IP address, got "${v}"`);
        if (a === '--usable-address') o.usableAddress = v;
        else o.unusableAddress = v;
        break;
      }
      default:
        throw new Error(`unknown flag "${a}"`);
    }
  }
  if (o.skipInstall && !o.kubeconfig)
    throw new Error('--skip-install needs --kubeconfig (a created cluster has no Trellis yet)');
  if ((o.usableAddress === undefined) !== (o.unusableAddress === undefined))
    throw new Error('--usable-address and --unusable-address go together');
  if (o.keep && o.kubeconfig) throw new Error('--keep is for a created cluster, not --kubeconfig');
  return o;
}
