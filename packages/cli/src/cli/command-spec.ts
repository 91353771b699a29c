// The shape of the command tree: every command, flag and argument of `trellis` is declared once,
// and parsing, --help and shell completion are all derived from the declaration.

export type FlagType = 'string' | 'boolean' | 'int' | 'duration' | 'strings';

export interface Flag {
  /** Long name without dashes, e.g. "kubeconfig". */
  readonly name: string;
  /** One-letter alias without the dash, e.g. "o". */
  readonly short?: string;
  readonly type: FlagType;
  /** What the value is, in help: FILE, NAME, KEY=VALUE. */
  readonly placeholder?: string;
  /** The allowed values (checked when parsing, offered by completion). */
  readonly values?: readonly string[];
  readonly default?: string | number | boolean;
  readonly description: string;
  /** Completion of the value: file names or directory names. */
  readonly complete?: 'file' | 'dir';
  /** Integer bounds for type int. */
  readonly min?: number;
  readonly max?: number;
}

export interface Command {
  readonly name: string;
  /** One line, shown in the parent's command list. */
  readonly summary: string;
  /** Paragraphs shown in this command's --help. */
  readonly description?: string;
  /** Positional arguments in usage, e.g. "[NAME]" or "FILE...". */
  readonly args?: string;
  readonly minArgs?: number;
  readonly maxArgs?: number;
  readonly flags?: readonly Flag[];
  readonly commands?: readonly Command[];
  readonly examples?: readonly string[];
  /** Other names that select this command (e.g. "verify-install" for "status"). */
  readonly aliases?: readonly string[];
}

export type FlagValue = string | number | boolean | readonly string[];

/** A parsed command line: which command, its flags (defaults filled in) and positional arguments. */
export interface Invocation {
  /** Command names from the root's child down, e.g. ["waypoint", "apply"]. */
  readonly path: readonly string[];
  readonly command: Command;
  readonly flags: Readonly<Record<string, FlagValue | undefined>>;
  readonly args: readonly string[];
  /** -h/--help was given (or a command group was called without a subcommand). */
  readonly help: boolean;
}

/** A command line that cannot be run as given; the message says what is wrong and what to do. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly path: readonly string[],
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Process exit codes, stated in `trellis --help`. */
export const EXIT = {
  ok: 0,
  /** The operation failed (API error, timeout, a resource that could not be applied). */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** A check found problems (precheck, status, analyze). */
  problems: 3,
} as const;

/** Finds a subcommand by name or alias. */
export function findCommand(parent: Command, name: string): Command | undefined {
  return parent.commands?.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Flags a command accepts: its own, then the global ones of the root. */
export function flagsOf(command: Command, globals: readonly Flag[]): readonly Flag[] {
  return [...(command.flags ?? []), ...globals];
}
