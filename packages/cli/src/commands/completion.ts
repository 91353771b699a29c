// `trellis completion bash|zsh|fish`.
import { EXIT, UsageError } from '../cli/command-spec.js';
import { completionScript, SHELLS, type Shell } from '../cli/completion.pure.js';
import type { Handler } from './context.js';
import { ROOT } from './tree.js';

export const completion: Handler = async (ctx) => {
  const shell = ctx.inv.args[0]!;
  if (!(SHELLS as readonly string[]).includes(shell))
    throw new UsageError(
      `unknown shell "${shell}"; expected one of ${SHELLS.join(', ')}`,
      ctx.inv.path,
    );
  ctx.out(completionScript(ROOT, shell as Shell));
  return EXIT.ok;
};
