// Applies, checks and removes the in-pod redirection inside one pod's network namespace, with the
// iptables backend the node uses (or native nftables). Applying compares with what is there first
// and changes only what differs, so re-applying to a healthy pod changes nothing.
import {
  CONNECTION_MARK,
  MARK_MASK,
  NFT_INPOD_TABLES,
  OUTPUT_CHAIN,
  PREROUTING_CHAIN,
  ROUTE_TABLE,
  RULE_PRIORITY,
  hex,
  inpodIptablesRules,
  inpodNftablesRules,
  inpodRouteCommands,
  iptablesDrift,
  nftDrift,
  nftRemoval,
  planIptablesRemoval,
  planIptablesRestore,
  type IpFamily,
} from '../rules/index.js';
import { exec } from './exec.js';

export type RulesMode = { kind: 'iptables'; backend: 'nft' | 'legacy' } | { kind: 'nftables' };

export interface PodRules {
  families: IpFamily[];
  dnsCapture: boolean;
}

const OURS = [PREROUTING_CHAIN, OUTPUT_CHAIN];

function tool(
  mode: RulesMode & { kind: 'iptables' },
  family: IpFamily,
  what: 'save' | 'restore',
): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}-${mode.backend}-${what}`;
}

/** Whether the policy routing (rule pref 32764 + local route in table 100) is in place, per `ip` output. */
function routesInPlace(rules: string, routes: string): boolean {
  const rule = rules
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(`${RULE_PRIORITY}:`) &&
        l.includes(`fwmark ${hex(CONNECTION_MARK)}/${hex(MARK_MASK)}`) &&
        l.includes(`lookup ${ROUTE_TABLE}`),
    );
  return rule.length === 1 && /^local (default|0\.0\.0\.0\/0|::\/0) dev lo/m.test(routes);
}

// Every command for one pod runs in one shell inside its netns (one nsenter, one sh): a node
// labelling many pods at once spends its time in process start-up otherwise.
const SECTION = '@@trellis-section ';
const HEREDOC = 'TRELLIS_RULES_END';

/** What the pod's netns holds now, read in one shell: the rules dump(s) and the policy routing. */
async function readState(
  netns: string,
  mode: RulesMode,
  families: readonly IpFamily[],
  opts: { tolerant?: boolean } = {},
): Promise<Map<string, string>> {
  const or = opts.tolerant ? ' 2>/dev/null || true' : '';
  const parts: [string, string][] =
    mode.kind === 'nftables'
      ? [['nft', `nft list ruleset${or}`]]
      : families.map((f) => [`save${f}`, `${tool(mode, f, 'save')}${or}`]);
  for (const f of families)
    parts.push(
      [`rules${f}`, `ip -${f} rule show pref ${RULE_PRIORITY} 2>/dev/null || true`],
      [`routes${f}`, `ip -${f} route show table ${ROUTE_TABLE} 2>/dev/null || true`],
    );
  const out = await exec(
    'sh',
    ['-c', ['set -e', ...parts.map(([k, cmd]) => `echo '${SECTION}${k}'\n${cmd}`)].join('\n')],
    { netns },
  );
  const state = new Map<string, string>();
  for (const chunk of out.split(SECTION).slice(1)) {
    const nl = chunk.indexOf('\n');
    state.set(chunk.slice(0, nl), chunk.slice(nl + 1));
  }
  return state;
}

const feed = (cmd: string, input: string) =>
  `${cmd} <<'${HEREDOC}'\n${input.endsWith('\n') ? input : `${input}\n`}${HEREDOC}`;

/** Shell lines that remove our policy routing (every copy of the rule, then the table's route). */
const routeRemoval = (f: IpFamily) => [
  `while ip -${f} rule del pref ${RULE_PRIORITY} 2>/dev/null; do :; done`,
  `ip -${f} route flush table ${ROUTE_TABLE} 2>/dev/null || true`,
];

async function runSteps(netns: string, steps: string[]): Promise<void> {
  await exec('sh', ['-c', ['set -e', ...steps].join('\n')], { netns });
}

/** Brings the pod's rules to `want`; resolves true when something had to change. */
export async function applyPodRules(
  netns: string,
  mode: RulesMode,
  want: PodRules,
): Promise<boolean> {
  const state = await readState(netns, mode, want.families);
  const steps: string[] = [];
  if (mode.kind === 'nftables') {
    const script = inpodNftablesRules({ families: want.families, dnsCapture: want.dnsCapture });
    const listing = state.get('nft') ?? '';
    if (nftDrift(script, listing, NFT_INPOD_TABLES).length) {
      const stale = nftRemoval(
        listing,
        NFT_INPOD_TABLES.filter((t) => !script.includes(`inet ${t}`)),
      );
      steps.push(feed('nft -f -', stale + script));
    }
  } else {
    for (const family of want.families) {
      const wanted = inpodIptablesRules({ family, dnsCapture: want.dnsCapture });
      const plan = planIptablesRestore(wanted, state.get(`save${family}`) ?? '', OURS);
      if (plan) steps.push(feed(`${tool(mode, family, 'restore')} --noflush`, plan));
    }
  }
  for (const f of want.families)
    if (!routesInPlace(state.get(`rules${f}`) ?? '', state.get(`routes${f}`) ?? ''))
      steps.push(...routeRemoval(f), ...inpodRouteCommands(f).map((a) => `ip ${a.join(' ')}`));
  if (steps.length === 0) return false;
  await runSteps(netns, steps);
  return true;
}

/** What differs from `want` (one sentence each); [] when the pod is redirected as it should be. */
export async function podRulesDrift(
  netns: string,
  mode: RulesMode,
  want: PodRules,
): Promise<string[]> {
  const state = await readState(netns, mode, want.families);
  const problems: string[] = [];
  if (mode.kind === 'nftables') {
    const script = inpodNftablesRules({ families: want.families, dnsCapture: want.dnsCapture });
    problems.push(...nftDrift(script, state.get('nft') ?? '', NFT_INPOD_TABLES));
  } else {
    for (const family of want.families) {
      const wanted = inpodIptablesRules({ family, dnsCapture: want.dnsCapture });
      problems.push(
        ...iptablesDrift(wanted, state.get(`save${family}`) ?? '', OURS).map(
          (p) => `IPv${family} ${p}`,
        ),
      );
    }
  }
  for (const family of want.families)
    if (!routesInPlace(state.get(`rules${family}`) ?? '', state.get(`routes${family}`) ?? ''))
      problems.push(
        `IPv${family}: policy routing (fwmark ${hex(CONNECTION_MARK)} -> table ${ROUTE_TABLE}) is not in place`,
      );
  return problems;
}

/** Removes every rule and route the redirection added (both families, both kinds). */
export async function removePodRules(netns: string, mode: RulesMode): Promise<void> {
  const state = await readState(netns, mode, [4, 6], { tolerant: true });
  const steps: string[] = [];
  if (mode.kind === 'nftables') {
    const removal = nftRemoval(state.get('nft') ?? '', NFT_INPOD_TABLES);
    if (removal) steps.push(feed('nft -f -', removal));
  } else {
    for (const family of [4, 6] as const) {
      const plan = planIptablesRemoval(state.get(`save${family}`) ?? '', OURS);
      if (plan) steps.push(feed(`${tool(mode, family, 'restore')} --noflush`, plan));
    }
  }
  for (const family of [4, 6] as const)
    if ((state.get(`rules${family}`) ?? '').trim() || (state.get(`routes${family}`) ?? '').trim())
      steps.push(...routeRemoval(family));
  if (steps.length) await runSteps(netns, steps);
}
