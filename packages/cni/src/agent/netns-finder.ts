// Finds the network namespace of a running pod by its IP: one process per namespace in the node's
// /proc tells which addresses that namespace holds (/proc/<pid>/net); namespaces pinned in the
// runtime's netns directories but holding no process are asked with `ip` inside them. The result
// is opened at once, so the namespace stays valid while the agent holds the fd.
import { openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { exec } from './exec.js';
import { fibTrieLocalAddresses, ifInet6Addresses } from './proc-net.pure.js';

export interface FoundNetns {
  /** A path that names it (for logs). */
  path: string;
  /** An open fd of it, owned by the caller. */
  fd: number;
}

export class NetnsFinder {
  #byIp = new Map<string, string>();
  #scannedAt = 0;

  constructor(
    private readonly hostProc: string,
    private readonly netnsDirs: readonly string[],
  ) {}

  /** The namespace holding any of `ips`, or undefined. */
  async find(ips: readonly string[]): Promise<FoundNetns | undefined> {
    if (ips.length === 0) return undefined;
    let path = this.#cached(ips);
    if (!path && Date.now() - this.#scannedAt > 200) {
      await this.#scan();
      path = this.#cached(ips);
    }
    if (!path) return undefined;
    try {
      return { path, fd: openSync(path, 'r') };
    } catch {
      // The process went away since the scan: look again once.
      await this.#scan();
      const again = this.#cached(ips);
      return again ? { path: again, fd: openSync(again, 'r') } : undefined;
    }
  }

  #cached(ips: readonly string[]): string | undefined {
    for (const ip of ips) {
      const p = this.#byIp.get(ip);
      if (p) return p;
    }
    return undefined;
  }

  async #scan(): Promise<void> {
    const byIp = new Map<string, string>();
    const seen = new Set<string>();
    let pids: string[] = [];
    try {
      pids = readdirSync(this.hostProc).filter((d) => /^\d+$/.test(d));
    } catch {
      // no /proc mounted: only pinned namespaces
    }
    for (const pid of pids) {
      let id: string;
      try {
        id = readlinkSync(`${this.hostProc}/${pid}/ns/net`);
      } catch {
        continue;
      }
      if (seen.has(id)) continue;
      seen.add(id);
      try {
        const v4 = fibTrieLocalAddresses(
          readFileSync(`${this.hostProc}/${pid}/net/fib_trie`, 'utf8'),
        );
        let v6: string[] = [];
        try {
          v6 = ifInet6Addresses(readFileSync(`${this.hostProc}/${pid}/net/if_inet6`, 'utf8'));
        } catch {
          // IPv6 off in that namespace
        }
        for (const ip of [...v4, ...v6])
          if (!ip.startsWith('127.') && ip !== '::1')
            byIp.set(ip, `${this.hostProc}/${pid}/ns/net`);
      } catch {
        // the process exited
      }
    }
    for (const dir of this.netnsDirs) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const path = `${dir}/${name}`;
        let id: string;
        try {
          id = `net:[${statSync(path).ino}]`;
        } catch {
          continue;
        }
        if (seen.has(id)) continue;
        seen.add(id);
        const out = await exec('ip', ['-o', 'addr', 'show'], { netns: path }).catch(() => '');
        for (const m of out.matchAll(/\sinet6?\s+([0-9a-f.:]+)\//g))
          if (!m[1]!.startsWith('127.') && m[1] !== '::1') byIp.set(m[1]!, path);
      }
    }
    this.#byIp = byIp;
    this.#scannedAt = Date.now();
  }
}
