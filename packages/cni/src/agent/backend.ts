// Which iptables backend the node uses: the one holding more rules on the host (kube-proxy and the
// primary CNI have written some by the time the agent starts), else what `iptables --version` says.
import { parseIptablesVersion, type IptablesBackend } from '../rules/index.js';
import { exec } from './exec.js';

function ruleCount(save: string): number {
  return save.split('\n').filter((l) => l.startsWith('-A ')).length;
}

export async function detectIptablesBackend(
  force: '' | 'iptables-legacy' | 'iptables-nft',
): Promise<{
  backend: IptablesBackend;
  why: string;
}> {
  if (force)
    return {
      backend: force === 'iptables-nft' ? 'nft' : 'legacy',
      why: `FORCE_IPTABLES_BINARY=${force}`,
    };
  const [legacy, nft] = await Promise.all(
    ['iptables-legacy-save', 'iptables-nft-save'].map((c) => exec(c, []).then(ruleCount, () => -1)),
  );
  if (legacy! > nft!)
    return { backend: 'legacy', why: `${legacy} legacy rules on the host, ${nft} nft` };
  if (nft! > legacy!)
    return { backend: 'nft', why: `${nft} nft rules on the host, ${legacy} legacy` };
  const v = parseIptablesVersion(await exec('iptables', ['--version']));
  return {
    backend: v.backend,
    why: `no rules on the host; iptables ${v.version} defaults to ${v.backend}`,
  };
}
