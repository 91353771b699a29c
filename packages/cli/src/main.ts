#!/usr/bin/env node
// Entry point of `trellis`: parse the command line against the command tree, print help or run
// the command's handler, and turn failures into a message and an exit code.
import { EXIT, UsageError } from './cli/command-spec.js';
import { helpText } from './cli/help.pure.js';
import { parseArgs } from './cli/parse-args.pure.js';
import { HANDLERS, ROOT } from './commands/tree.js';
import { processArgv, processEnv } from './config.js';

async function main(args: readonly string[], env = processEnv()): Promise<number> {
  // `trellis help install` is `trellis install --help`.
  const argv = args[0] === 'help' ? [...args.slice(1), '--help'] : args;
  const out = (text: string) => process.stdout.write(text);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  let inv;
  try {
    inv = parseArgs(ROOT, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`trellis: ${e.message}`);
    return EXIT.usage;
  }
  const key = inv.path.join(' ');
  const handler = HANDLERS[key];
  if (inv.help || !handler) {
    out(helpText(ROOT, inv.path, inv.command));
    // Bare `trellis` (or a command group without a subcommand) is a usage error.
    return inv.help && argv.some((a) => a === '-h' || a === '--help') ? EXIT.ok : EXIT.usage;
  }
  try {
    // Loaded here, not at the top: --help and completion need neither it nor a Kubernetes client.
    const { createContext } = await import('./commands/context.js');
    const run = await handler();
    return await run(createContext(inv, env, { out, log: err }));
  } catch (e) {
    if (e instanceof UsageError) {
      err(`trellis: ${e.message}`);
      return EXIT.usage;
    }
    err(`trellis ${key}: ${(e as Error).message}`);
    if (env['TRELLIS_DEBUG']) err((e as Error).stack ?? '');
    return EXIT.failed;
  }
}

main(processArgv()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`trellis: ${e.stack ?? e.message}\n`);
    process.exitCode = EXIT.failed;
  },
);
