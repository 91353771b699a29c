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

async function routeState(
  netns: string,
  family: IpFamily,
): Promise<{ rules: string; routes: string }> {
  const f = `-${family}`;
  const [rules, routes] = await Promise.all([
    exec('ip', [f, 'rule', 'show', 'pref', String(RULE_PRIORITY)], { netns }),
    exec('ip', [f, 'route', 'show', 'table', String(ROUTE_TABLE)], { netns }).catch(() => ''),
  ]);
  return { rules, routes };
}

async function ensureRoutes(netns: string, family: IpFamily): Promise<boolean> {
  const st = await routeState(netns, family);
  if (routesInPlace(st.rules, st.routes)) return false;
  await removeRoutes(netns, family);
  for (const args of inpodRouteCommands(family)) await exec('ip', args, { netns });
  return true;
}

async function removeRoutes(netns: string, family: IpFamily): Promise<void> {
  const f = `-${family}`;
  // Delete every copy of our rule (ip rule allows duplicates), then the table's route.
  for (let i = 0; i < 8; i++) {
    const ok = await exec('ip', [f, 'rule', 'del', 'pref', String(RULE_PRIORITY)], { netns }).then(
      () => true,
      () => false,
    );
    if (!ok) break;
  }
  await exec('ip', [f, 'route', 'flush', 'table', String(ROUTE_TABLE)], { netns }).catch(
    () => undefined,
  );
}

/** Brings the pod's rules to `want`; resolves true when something had to change. */
export async function applyPodRules(
  netns: string,
  mode: RulesMode,
  want: PodRules,
): Promise<boolean> {
  let changed = false;
  if (mode.kind === 'nftables') {
    const script = inpodNftablesRules({ families: want.families, dnsCapture: want.dnsCapture });
    const listing = await exec('nft', ['list', 'ruleset'], { netns });
    if (nftDrift(script, listing, NFT_INPOD_TABLES).length) {
      const stale = nftRemoval(
        listing,
        NFT_INPOD_TABLES.filter((t) => !script.includes(`inet ${t}`)),
      );
      await exec('nft', ['-f', '-'], { netns, stdin: stale + script });
      changed = true;
    }
  } else {
    for (const family of want.families) {
      const wanted = inpodIptablesRules({ family, dnsCapture: want.dnsCapture });
      const current = await exec(tool(mode, family, 'save'), [], { netns });
      const plan = planIptablesRestore(wanted, current, OURS);
      if (plan) {
        await exec(tool(mode, family, 'restore'), ['--noflush'], { netns, stdin: plan });
        changed = true;
      }
    }
  }
  for (const family of want.families) if (await ensureRoutes(netns, family)) changed = true;
  return changed;
}

/** What differs from `want` (one sentence each); [] when the pod is redirected as it should be. */
export async function podRulesDrift(
  netns: string,
  mode: RulesMode,
  want: PodRules,
): Promise<string[]> {
  const problems: string[] = [];
  if (mode.kind === 'nftables') {
    const script = inpodNftablesRules({ families: want.families, dnsCapture: want.dnsCapture });
    problems.push(
      ...nftDrift(script, await exec('nft', ['list', 'ruleset'], { netns }), NFT_INPOD_TABLES),
    );
  } else {
    for (const family of want.families) {
      const wanted = inpodIptablesRules({ family, dnsCapture: want.dnsCapture });
      const current = await exec(tool(mode, family, 'save'), [], { netns });
      problems.push(...iptablesDrift(wanted, current, OURS).map((p) => `IPv${family} ${p}`));
    }
  }
  for (const family of want.families) {
    const st = await routeState(netns, family);
    if (!routesInPlace(st.rules, st.routes))
      problems.push(
        `IPv${family}: policy routing (fwmark ${hex(CONNECTION_MARK)} -> table ${ROUTE_TABLE}) is not in place`,
      );
  }
  return problems;
}

/** Removes every rule and route the redirection added (both families, both kinds). */
export async function removePodRules(netns: string, mode: RulesMode): Promise<void> {
  if (mode.kind === 'nftables') {
    const removal = nftRemoval(await exec('nft', ['list', 'ruleset'], { netns }), NFT_INPOD_TABLES);
    if (removal) await exec('nft', ['-f', '-'], { netns, stdin: removal });
  } else {
    for (const family of [4, 6] as const) {
      const current = await exec(tool(mode, family, 'save'), [], { netns }).catch(() => '');
      const plan = planIptablesRemoval(current, OURS);
      if (plan) await exec(tool(mode, family, 'restore'), ['--noflush'], { netns, stdin: plan });
    }
  }
  for (const family of [4, 6] as const) await removeRoutes(netns, family).catch(() => undefined);
}
