// FractionalPercent / RuntimeFractionalPercent -> a fraction in 0..1. Pure.
import type { RuntimeFractionalPercent } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  FractionalPercent_DenominatorType,
  type FractionalPercent,
} from '@trellis/api/gen/envoy/type/v3/percent_pb.js';
import type { Percent } from '@trellis/api/gen/envoy/type/v3/percent_pb.js';
import { invalid } from './common.js';

export function fraction(p: FractionalPercent | undefined, field: string, unset = 1): number {
  if (!p) return unset;
  let denominator: number;
  switch (p.denominator) {
    case FractionalPercent_DenominatorType.HUNDRED:
      denominator = 100;
      break;
    case FractionalPercent_DenominatorType.TEN_THOUSAND:
      denominator = 10_000;
      break;
    case FractionalPercent_DenominatorType.MILLION:
      denominator = 1_000_000;
      break;
    default:
      invalid(`${field}.denominator`, `unknown denominator ${String(p.denominator)}`);
  }
  return Math.min(1, p.numerator / denominator);
}

/** A runtime fraction's default value (Trellis has no runtime layer). */
export function runtimeFraction(
  p: RuntimeFractionalPercent | undefined,
  field: string,
  unset = 1,
): number {
  if (!p) return unset;
  return fraction(p.defaultValue, `${field}.default_value`, 0);
}

export function percent(p: Percent | undefined, unset: number): number {
  if (!p) return unset;
  return Math.max(0, Math.min(100, p.value)) / 100;
}
