// Which iptables backend a host uses, from the output of `iptables --version` (pure).

export type IptablesBackend = 'nft' | 'legacy';

export interface IptablesVersion {
  version: string;
  backend: IptablesBackend;
}

/**
 * Parses `iptables v1.8.9 (nf_tables)` / `iptables v1.8.7 (legacy)` / `iptables v1.6.1` (before
 * 1.8 there was only the legacy backend).
 */
export function parseIptablesVersion(output: string): IptablesVersion {
  const m = /\b(?:ip6?tables)(?:-legacy|-nft)?\s+v(\d+(?:\.\d+)+)(?:\s+\(([^)]+)\))?/.exec(output);
  if (!m) throw new Error(`cannot parse iptables version from '${output.trim()}'`);
  const version = m[1]!;
  const mode = m[2];
  if (mode === undefined || mode === 'legacy') return { version, backend: 'legacy' };
  if (mode === 'nf_tables') return { version, backend: 'nft' };
  throw new Error(`unknown iptables backend '${mode}' in '${output.trim()}'`);
}

/** The restore command for a backend and family. */
export function restoreCommand(backend: IptablesBackend, family: 4 | 6): string {
  const base = family === 4 ? 'iptables' : 'ip6tables';
  return `${base}-${backend}-restore`;
}
