// In-pod mode with the DNS proxy: each pod's proxy set comes with its DNS server (in this process
// also when connections go to workers: DNS is light and the state store is here).
import { readFileSync } from 'node:fs';
import type { Logger } from '@trellis/core';
import type { PodSpec } from '../inpod/pod-manager.js';
import type { ProxySet } from '../proxy/proxy-set.js';
import { ZTUNNEL_MARK, type SocketOps } from '../proxy/socket-ops.js';
import type { StateStore } from '../state/store.js';
import type { DnsMetrics } from './metrics.js';
import { resolvConfNameservers } from './resolv-conf.js';
import { startPodDns } from './server.js';
import { netnsUpstreamSockets, Upstream } from './upstream.js';

type StartPod = (pod: PodSpec, ops: SocketOps, netnsFd: number) => Promise<ProxySet>;

export interface DnsProxyConfig {
  readonly store: StateStore;
  readonly network: string;
  readonly clusterDomain: string;
  readonly ipv6: boolean;
  /** The resolv.conf whose nameservers get the queries the proxy does not answer. */
  readonly resolvConf: string;
  readonly logger: Logger;
  readonly metrics?: DnsMetrics;
}

/** `startPod` plus a DNS server in the pod's netns, closed with its proxies. */
export function withDnsProxy(startPod: StartPod, cfg: DnsProxyConfig): StartPod {
  const nameservers = resolvConfNameservers(readFileSync(cfg.resolvConf, 'utf8'));
  if (nameservers.length === 0)
    cfg.logger.warn(
      { resolvConf: cfg.resolvConf },
      'no nameserver in the resolv.conf: DNS queries outside the mesh will fail (SERVFAIL)',
    );
  else cfg.logger.info({ nameservers, resolvConf: cfg.resolvConf }, 'DNS proxy upstreams');
  return async (pod, ops, netnsFd) => {
    const proxies = await startPod(pod, ops, netnsFd);
    let dns;
    try {
      dns = await startPodDns(
        {
          view: cfg.store,
          client: { namespace: pod.namespace, network: cfg.network },
          options: { clusterDomain: cfg.clusterDomain, ipv6: cfg.ipv6 },
          upstream: new Upstream(
            nameservers.map((host) => ({ host, port: 53 })),
            netnsUpstreamSockets(netnsFd, ZTUNNEL_MARK),
          ),
          logger: cfg.logger.child({ pod: `${pod.namespace}/${pod.name}` }),
          ...(cfg.metrics ? { metrics: cfg.metrics } : {}),
        },
        { netns: netnsFd },
      );
    } catch (err) {
      await proxies.close(0);
      throw new Error(`the DNS proxy could not start: ${(err as Error).message}`, { cause: err });
    }
    const server = dns;
    return {
      ports: proxies.ports,
      async close(drainMs) {
        await Promise.all([server.close(drainMs), proxies.close(drainMs)]);
      },
    };
  };
}
