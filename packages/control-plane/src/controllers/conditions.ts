// Status conditions (metav1.Condition) built by the status functions, and the rules for writing
// them: lastTransitionTime changes only when the status flips; comparisons ignore it.

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

/** A condition before it gets its generation and transition time. */
export type DesiredCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

export const condition = (
  type: string,
  ok: boolean,
  reason: string,
  message: string,
): DesiredCondition => ({ type, status: ok ? 'True' : 'False', reason, message });

/**
 * Stamps desired conditions with `generation` and a transition time: the existing one when the
 * same type already had the same status, else `now`. Existing conditions of other types are kept
 * after ours (someone else wrote them), except the types listed in `owned`, which we manage.
 */
export function mergeConditions(
  existing:
    | readonly {
        readonly type: string;
        readonly status: string;
        readonly lastTransitionTime?: string;
      }[]
    | undefined,
  desired: readonly DesiredCondition[],
  generation: number | undefined,
  now: string,
  owned: readonly string[] = [],
): Condition[] {
  const ours = new Set([...desired.map((c) => c.type), ...owned]);
  const out: Condition[] = desired.map((c) => {
    const before = existing?.find((e) => e.type === c.type);
    return {
      ...c,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime:
        before?.status === c.status && typeof before.lastTransitionTime === 'string'
          ? before.lastTransitionTime
          : now,
    };
  });
  for (const e of existing ?? []) if (e.type && !ours.has(e.type)) out.push(e as Condition);
  return out;
}

/**
 * A fingerprint of a status that ignores transition times and key order (the apiserver returns
 * keys sorted), to tell whether a write is needed.
 */
export function statusFingerprint(status: unknown): string {
  return JSON.stringify(status, (key, value: unknown) => {
    if (key === 'lastTransitionTime') return undefined;
    if (value && typeof value === 'object' && !Array.isArray(value))
      return Object.fromEntries(
        Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    return value;
  });
}

/** metadata.generation (checked to be an integer at ingest). */
export function generationOf(meta: { generation?: number } | undefined): number | undefined {
  return meta?.generation;
}

/**
 * The `status` of a policy-like object (only `status.conditions`): `desired` merged into what it
 * has, the types in `owned` being ours.
 */
export function policyConditions(
  o: {
    readonly metadata: { generation?: number };
    readonly status: { readonly conditions: Parameters<typeof mergeConditions>[0] };
  },
  desired: readonly DesiredCondition[],
  now: string,
  owned: readonly string[],
): { conditions: Condition[] } {
  return {
    conditions: mergeConditions(o.status.conditions, desired, generationOf(o.metadata), now, owned),
  };
}
