// Clusters CDS removed while the applied listeners or routes still name them are kept a grace
// period (xds-config.ts): which of them go now, and when to look again. Pure: the caller gives the
// clock and applies the answer.

export interface RetiringDecision {
  /** Kept clusters to remove now. */
  readonly gone: readonly string[];
  /**
   * In how many ms the next kept cluster's grace ends (none while an update is held: its release
   * decides again). A timer may fire a millisecond before the wall clock says the grace ended, so
   * the caller always looks again while a cluster is kept, or it would be kept for ever.
   */
  readonly nextInMs?: number;
}

/**
 * `retiring` maps a kept cluster to when CDS removed it (ms). One goes once nothing applied names
 * it, or once `graceMs` passed while no update is `holding` (its routes name it on purpose).
 */
export function decideRetiring(
  retiring: ReadonlyMap<string, number>,
  named: ReadonlySet<string>,
  holding: boolean,
  now: number,
  graceMs: number,
): RetiringDecision {
  const gone: string[] = [];
  let next: number | undefined;
  for (const [name, since] of retiring) {
    const left = since + graceMs - now;
    if (!named.has(name) || (!holding && left <= 0)) gone.push(name);
    else if (!holding) next = Math.min(next ?? left, left);
  }
  return next === undefined ? { gone } : { gone, nextInMs: next };
}
