// Kubernetes resource quantities ("500m", "2", "256Mi", "1.5G", "1e3") as numbers, for the
// downward API's resourceFieldRef (the value is the quantity divided by the divisor, rounded up).
const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity; throws naming it when it is not one. */
export function parseQuantity(q: string): number {
  const m =
    /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(
      q.trim(),
    );
  if (!m) throw new Error(`"${q}" is not a Kubernetes quantity (e.g. 500m, 2, 256Mi)`);
  return Number(m[1]! + (m[2] ?? '')) * SUFFIX[m[3] ?? '']!;
}

/**
 * resourceFieldRef's value: `quantity` / `divisor`, rounded up, as a string. No divisor, or "0"
 * (what the API server stores for one left out), is 1, as the kubelet's.
 */
export function divideQuantity(quantity: string, divisor = '1'): string {
  const d = parseQuantity(divisor) || 1;
  if (d < 0) throw new Error(`divisor "${divisor}" must not be negative`);
  // Rounded to a millionth first: 0.3 / 0.001 is 299.99999999999994 in floating point.
  return String(Math.ceil(Math.round((parseQuantity(quantity) / d) * 1e6) / 1e6));
}
