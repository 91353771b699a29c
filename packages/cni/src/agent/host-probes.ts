// The host side of kubelet probes: a rule in the node's netns SNATs TCP from local sockets to
// redirected pods to 169.254.7.127 (which the in-pod rules let through to the app), and a set of
// those pods' addresses the agent keeps (ipset with iptables, an nft set with native nftables).
import {
  HOST_POSTROUTING_CHAIN,
  NFT_HOST_TABLE,
  hostProbeNftablesRules,
  hostProbeRules,
  nftProbeSet,
  planIptablesRemoval,
  planIptablesRestore,
  type IpFamily,
} from '../rules/index.js';
import { exec } from './exec.js';
import type { RulesMode } from './inpod-rules.js';

const IPSET = { 4: 'istio-inpod-probes-v4', 6: 'istio-inpod-probes-v6' } as const;
const family = (ip: string): IpFamily => (ip.includes(':') ? 6 : 4);

export class HostProbes {
  constructor(
    private readonly mode: RulesMode,
    private readonly families: IpFamily[],
  ) {}

  /** Creates the sets and the SNAT rule (idempotent). */
  async install(): Promise<void> {
    if (this.mode.kind === 'nftables') {
      await exec('nft', ['-f', '-'], { stdin: hostProbeNftablesRules(this.families) });
      return;
    }
    for (const f of this.families) {
      await exec('ipset', [
        'create',
        IPSET[f],
        'hash:ip',
        'family',
        f === 4 ? 'inet' : 'inet6',
        'comment',
        '-exist',
      ]);
      const save = `${f === 4 ? 'iptables' : 'ip6tables'}-${this.mode.backend}`;
      const plan = planIptablesRestore(
        hostProbeRules({ family: f, ipset: IPSET[f] }),
        await exec(`${save}-save`, []),
        [HOST_POSTROUTING_CHAIN],
      );
      if (plan) await exec(`${save}-restore`, ['--noflush'], { stdin: plan });
    }
  }

  async add(ips: readonly string[], uid: string): Promise<void> {
    for (const ip of ips) {
      const f = family(ip);
      if (!this.families.includes(f)) continue;
      if (this.mode.kind === 'nftables')
        await exec('nft', ['add', 'element', 'inet', NFT_HOST_TABLE, nftProbeSet(f), `{ ${ip} }`]);
      else await exec('ipset', ['add', IPSET[f], ip, 'comment', uid, '-exist']);
    }
  }

  async remove(ips: readonly string[]): Promise<void> {
    for (const ip of ips) {
      const f = family(ip);
      if (!this.families.includes(f)) continue;
      if (this.mode.kind === 'nftables')
        await exec('nft', [
          'delete',
          'element',
          'inet',
          NFT_HOST_TABLE,
          nftProbeSet(f),
          `{ ${ip} }`,
        ]).catch(() => undefined);
      else await exec('ipset', ['del', IPSET[f], ip, '-exist']);
    }
  }

  /** Removes the rule and the sets (uninstall). */
  async uninstall(): Promise<void> {
    if (this.mode.kind === 'nftables') {
      await exec('nft', ['delete', 'table', 'inet', NFT_HOST_TABLE]).catch(() => undefined);
      return;
    }
    for (const f of [4, 6] as const) {
      const save = `${f === 4 ? 'iptables' : 'ip6tables'}-${this.mode.backend}`;
      const plan = planIptablesRemoval(await exec(`${save}-save`, []).catch(() => ''), [
        HOST_POSTROUTING_CHAIN,
      ]);
      if (plan) await exec(`${save}-restore`, ['--noflush'], { stdin: plan });
      await exec('ipset', ['destroy', IPSET[f]]).catch(() => undefined);
    }
  }
}
