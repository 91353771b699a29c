// Command lines for `kubectl exec`: enter the container's network, mount and UTS namespaces and its
// working directory (nsenter execs in place, so the command inherits the environment we pass),
// and, for a TTY, run that under util-linux `script`, which gives it a pseudo-terminal of the size
// the client asked for and passes the command's exit code back.

export interface TermSize {
  width: number;
  height: number;
}

export function nsenterArgv(pid: number, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new Error('exec needs a command');
  return ['nsenter', '-t', String(pid), '--net', '--mount', '--uts', '--wd', '--', ...argv];
}

export function ttyArgv(inner: readonly string[], size: TermSize | undefined): string[] {
  const stty = size ? `stty rows ${size.height} cols ${size.width} 2>/dev/null; ` : '';
  return [
    'script',
    '-q',
    '-e',
    '-c',
    `${stty}exec ${inner.map(shellQuote).join(' ')}`,
    '/dev/null',
  ];
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The environment of a process from /proc/<pid>/environ (NUL-separated KEY=VALUE). */
export function parseEnviron(raw: Buffer | string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of raw.toString('utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/** Splits concatenated JSON objects (the resize stream) into whole objects and a remainder. */
export function splitJsonObjects(text: string): { objects: unknown[]; rest: string } {
  const objects: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  let consumed = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' && depth > 0 && --depth === 0) {
      objects.push(JSON.parse(text.slice(start, i + 1)));
      consumed = i + 1;
    }
  }
  return { objects, rest: text.slice(consumed) };
}

/** A resize event as the client sends it ({"Width":80,"Height":24}), or undefined when malformed. */
export function termSize(o: unknown): TermSize | undefined {
  const r = o as { Width?: unknown; Height?: unknown };
  const w = Number(r?.Width);
  const h = Number(r?.Height);
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 0 || h < 0 || w > 65535 || h > 65535)
    return undefined;
  return { width: w, height: h };
}
