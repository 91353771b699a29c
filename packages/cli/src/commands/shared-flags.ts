// Flags read the same way by several commands: --lb-range (both cluster providers) and --set
// (install, manifest generate).
import { parseLbRange } from '@trellis/local-cluster';
import { UsageError } from '../cli/command-spec.js';
import { parseSets, type Values } from '../manifests/values.pure.js';
import type { Context } from './context.js';

/** `--set` values, checked (a usage error names the argument and what is accepted). */
export function valuesFlag(ctx: Context): Values {
  try {
    return parseSets(ctx.flag<string[] | undefined>('set') ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message, ctx.inv.path);
  }
}

/** `--lb-range`, checked (a usage error names what is wrong), or undefined when not given. */
export function lbRangeFlag(ctx: Context): string | undefined {
  const lbRange = ctx.flag<string | undefined>('lb-range');
  try {
    if (lbRange !== undefined) parseLbRange(lbRange);
  } catch (e) {
    throw new UsageError((e as Error).message, ctx.inv.path);
  }
  return lbRange;
}
