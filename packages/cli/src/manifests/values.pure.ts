// Install settings: the profiles and the `--set key=value` keys, each with its type, default and
// meaning. Unknown keys and bad values are refused with what would be accepted.

export const PROFILES = ['default', 'minimal'] as const;
export type Profile = (typeof PROFILES)[number];

export const PROFILE_SUMMARY: Record<Profile, string> = {
  default: 'control plane (CA embedded), ztunnel and the CNI agent on every node',
  minimal: 'control plane (CA embedded) only; no node components',
};

type ValueType =
  | { readonly type: 'string'; readonly pattern?: RegExp; readonly expected?: string }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'bool' };

interface ValueSpec {
  readonly key: string;
  readonly description: string;
  readonly value: ValueType;
}

const DNS_LABEL_LIST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(,[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ABS_PATH = /^\/[^\0]*$/;

/** Every key `--set` accepts. */
export const VALUE_SPECS: readonly ValueSpec[] = [
  {
    key: 'images.registry',
    description: 'registry prefix of the images: REGISTRY/trellis/<component>:<tag> (default none)',
    value: {
      type: 'string',
      pattern: /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/,
      expected: 'a registry such as ghcr.io/acme',
    },
  },
  {
    key: 'images.tag',
    description: "image tag of every component (default: this CLI's version)",
    value: {
      type: 'string',
      pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
      expected: 'an image tag',
    },
  },
  {
    key: 'images.pullPolicy',
    description: "imagePullPolicy of every container (default: the cluster's default)",
    value: { type: 'enum', values: ['IfNotPresent', 'Always', 'Never'] },
  },
  {
    key: 'trustDomain',
    description: 'SPIFFE trust domain of workload identities (default cluster.local)',
    value: {
      type: 'string',
      pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
      expected: 'a trust domain such as cluster.local',
    },
  },
  {
    key: 'clusterId',
    description: 'cluster name in workload names and CA requests (default Kubernetes)',
    value: { type: 'string', pattern: /^[^/\s]+$/, expected: 'a name without "/" or spaces' },
  },
  {
    key: 'logLevel',
    description: 'log level of every component (default info)',
    value: { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error'] },
  },
  {
    key: 'tracing.otlpEndpoint',
    description:
      'OTLP/gRPC collector the waypoints send their traces to, e.g. http://otel-collector.observability:4317 (default none: no traces)',
    value: {
      type: 'string',
      pattern: /^https?:\/\/[^\s/?#]+:\d+\/?$/,
      expected: 'http://host:port or https://host:port',
    },
  },
  {
    key: 'controlPlane.replicas',
    description: 'control plane replicas (default 1)',
    value: { type: 'int', min: 1, max: 10 },
  },
  {
    key: 'controlPlane.plaintextXds',
    description: 'serve unauthenticated plaintext xDS on 15010 as Istio does (default true)',
    value: { type: 'bool' },
  },
  {
    key: 'ztunnel.enabled',
    description: 'run ztunnel on every node (default: true in profile default, false in minimal)',
    value: { type: 'bool' },
  },
  {
    key: 'ztunnel.workers',
    description:
      'processes carrying connections in each ztunnel: a count, or a percentage of its CPU limit (ZTUNNEL_WORKER_THREADS; default 2, as upstream ztunnel)',
    value: {
      type: 'string',
      pattern:
        /^(?:25[0-6]|2[0-4]\d|1\d\d|[1-9]\d?|(?:100(?:\.0+)?|[1-9]\d?(?:\.\d+)?|0\.\d*[1-9]\d*)%)$/,
      expected:
        'a count from 1 to 256, or a percentage of the CPU limit above 0 and at most 100%, e.g. 50%',
    },
  },
  {
    key: 'cni.enabled',
    description:
      'run the CNI agent on every node (default: true in profile default, false in minimal)',
    value: { type: 'bool' },
  },
  {
    key: 'cni.confDir',
    description: "the nodes' CNI config directory (default /etc/cni/net.d)",
    value: { type: 'string', pattern: ABS_PATH, expected: 'an absolute path' },
  },
  {
    key: 'cni.binDir',
    description: "the nodes' CNI plugin directory (default /opt/cni/bin)",
    value: { type: 'string', pattern: ABS_PATH, expected: 'an absolute path' },
  },
  {
    key: 'cni.excludeNamespaces',
    description: 'namespaces the CNI agent never redirects (default kube-system,trellis-system)',
    value: { type: 'string', pattern: DNS_LABEL_LIST, expected: 'comma-separated namespace names' },
  },
];

export type Values = Readonly<Record<string, string | number | boolean>>;

/** Parses `--set` arguments (KEY=VALUE, or several comma-separated pairs are not allowed: one per flag). */
export function parseSets(sets: readonly string[]): Values {
  const out: Record<string, string | number | boolean> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0)
      throw new Error(`--set ${s}: expected KEY=VALUE, e.g. --set controlPlane.replicas=2`);
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1).trim();
    const spec = VALUE_SPECS.find((v) => v.key === key);
    if (!spec)
      throw new Error(
        `--set ${s}: unknown key "${key}"; known keys: ${VALUE_SPECS.map((v) => v.key).join(', ')} (see trellis install --help)`,
      );
    out[key] = parseValue(spec, raw, s);
  }
  return out;
}

function parseValue(spec: ValueSpec, raw: string, arg: string): string | number | boolean {
  const bad = (expected: string) => new Error(`--set ${arg}: ${spec.key} must be ${expected}`);
  const v = spec.value;
  switch (v.type) {
    case 'bool':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw bad('true or false');
    case 'int': {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < v.min || n > v.max)
        throw bad(`an integer from ${v.min} to ${v.max}`);
      return n;
    }
    case 'enum':
      if (!v.values.includes(raw)) throw bad(`one of ${v.values.join(', ')}`);
      return raw;
    case 'string':
      if (raw === '' || (v.pattern && !v.pattern.test(raw))) throw bad(v.expected ?? 'non-empty');
      return raw;
  }
}

/** The `--set` keys for --help. */
export function valuesHelp(): string {
  const width = Math.max(...VALUE_SPECS.map((v) => v.key.length)) + 2;
  return VALUE_SPECS.map((v) => `  ${v.key.padEnd(width)}${v.description}`).join('\n');
}

/** Which node components a profile and the values enable. */
export function componentsEnabled(
  profile: Profile,
  values: Values,
): { ztunnel: boolean; cni: boolean } {
  const dflt = profile === 'default';
  return {
    ztunnel: (values['ztunnel.enabled'] as boolean | undefined) ?? dflt,
    cni: (values['cni.enabled'] as boolean | undefined) ?? dflt,
  };
}
