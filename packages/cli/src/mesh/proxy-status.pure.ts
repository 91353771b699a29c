// `trellis proxy-status` rows: one per connected proxy, the sync state of each type it
// subscribed to (SYNCED, STALE, NACKED, NOT SENT), from the control plane's /debug/syncz.

/** One proxy in the control plane's /debug/syncz (the fields read here; a wire contract). */
export interface SynczEntry {
  readonly proxy: string;
  readonly protocol: string;
  readonly types: Readonly<
    Record<
      string,
      {
        readonly state: string;
        readonly sentVersion?: string;
        readonly ackedVersion?: string;
        readonly lastNack?: string;
      }
    >
  >;
}

export interface ProxyStatusRow {
  readonly proxy: string;
  readonly controlPlane: string;
  readonly protocol: string;
  /** Short type name (address, authorization, lds, rds, cds, eds) -> state or "-". */
  readonly types: Readonly<Record<string, string>>;
  /** NACK messages, "type: message". */
  readonly nacks: readonly string[];
}

export const TYPE_COLUMNS = ['address', 'authorization', 'lds', 'rds', 'cds', 'eds'] as const;

export function proxyStatusRows(
  byControlPlane: ReadonlyMap<string, readonly SynczEntry[]>,
): ProxyStatusRow[] {
  const rows: ProxyStatusRow[] = [];
  for (const [controlPlane, entries] of byControlPlane)
    for (const e of entries) {
      const types: Record<string, string> = {};
      const nacks: string[] = [];
      for (const [short, t] of Object.entries(e.types)) {
        types[short] =
          t.state === 'SYNCED' || t.state === 'NOT SENT'
            ? t.state
            : `${t.state}${t.sentVersion ? ` (sent ${t.sentVersion}, acked ${t.ackedVersion ?? 'none'})` : ''}`;
        if (t.state === 'NACKED' && t.lastNack) nacks.push(`${short}: ${t.lastNack}`);
      }
      rows.push({ proxy: e.proxy, controlPlane, protocol: e.protocol, types, nacks });
    }
  return rows.sort((a, b) => a.proxy.localeCompare(b.proxy));
}

export function hasProblems(rows: readonly ProxyStatusRow[]): boolean {
  return rows.some((r) => Object.values(r.types).some((s) => s.startsWith('NACKED')));
}
