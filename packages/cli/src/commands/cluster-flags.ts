// Flags both cluster providers read the same way.
import { parseLbRange } from '@trellis/local-cluster';
import { UsageError } from '../cli/command-spec.js';
import type { Context } from './context.js';

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
