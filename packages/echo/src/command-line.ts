// The two commands' shared handling of their arguments: a bad flag prints the reason and a hint
// and gives exit status 2, --help prints the flags and gives 0.
import { FlagError, usage, type FlagSpec } from './flags.pure.js';

/** The parsed arguments, or the exit status when the command should stop here. */
export function commandLine<T>(
  program: string,
  title: string,
  specs: FlagSpec[],
  parse: (argv: string[]) => T | 'help',
  argv: string[],
): T | number {
  let parsed: T | 'help';
  try {
    parsed = parse(argv);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    process.stderr.write(`${program}: ${e.message}\nRun '${program} --help' for the flags.\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(usage(title, specs));
    return 0;
  }
  return parsed;
}
