// Parsers turn one raw setting string (from a flag or an environment variable) into a typed value.
// Each parser says what it accepts, so an error can tell the user what to write instead.
import { isIP } from 'node:net';
import { canonicalIp } from './ip.js';

export interface Parser<T> {
  /** What the parser accepts, e.g. "an integer from 1 to 65535"; shown in errors and --help. */
  readonly expected: string;
  /** Returns the value, or throws an Error saying what is wrong with `raw`. */
  parse(raw: string): T;
  /** Writes a value back the way a user would type it (used for defaults in --help). */
  format?(value: T): string;
  /** What a flag given without a value (`--verbose`) stands for; only booleans have one. */
  readonly bare?: string;
}

export function string(): Parser<string> {
  return { expected: 'a string', parse: (raw) => raw };
}

export function int(opts: { min?: number; max?: number } = {}): Parser<number> {
  const { min, max } = opts;
  let expected = 'an integer';
  if (min !== undefined && max !== undefined) expected += ` from ${min} to ${max}`;
  else if (min !== undefined) expected += ` >= ${min}`;
  else if (max !== undefined) expected += ` <= ${max}`;
  return {
    expected,
    parse(raw) {
      const text = raw.trim();
      if (!/^[-+]?\d+$/.test(text)) throw new Error('not an integer');
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new Error('integer out of range');
      if (min !== undefined && n < min) throw new Error(`below the minimum ${min}`);
      if (max !== undefined && n > max) throw new Error(`above the maximum ${max}`);
      return n;
    },
  };
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function bool(): Parser<boolean> {
  return {
    expected: 'true or false (also 1/0, yes/no, on/off)',
    bare: 'true',
    parse(raw) {
      const text = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(text)) return true;
      if (FALSE_WORDS.has(text)) return false;
      throw new Error('not a boolean');
    },
  };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations such as "250ms", "5s", "1m", "24h" or "1h30m", as whole milliseconds. */
export function duration(): Parser<number> {
  return {
    expected: 'a duration such as 250ms, 5s, 1m, 24h or 1h30m',
    parse(raw) {
      const text = raw.trim();
      if (text === '0') return 0;
      if (!/^(\d+(ms|s|m|h))+$/.test(text)) throw new Error('not a duration');
      let total = 0;
      for (const [, digits, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
        total += Number(digits) * DURATION_UNITS_MS[unit];
      }
      if (!Number.isSafeInteger(total)) throw new Error('duration too long');
      return total;
    },
    format: formatDuration,
  };
}

/** Writes milliseconds with the largest units that fit exactly: 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms']) {
    const size = DURATION_UNITS_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

export function oneOf<const V extends string>(values: readonly V[]): Parser<V> {
  if (values.length === 0) throw new Error('oneOf() needs at least one value');
  return {
    expected: `one of ${values.join(', ')}`,
    parse(raw) {
      const text = raw.trim();
      if (!(values as readonly string[]).includes(text)) throw new Error('not an accepted value');
      return text as V;
    },
  };
}

/** A comma-separated list; entries are trimmed and empty entries dropped. */
export function list<T = string>(item?: Parser<T>): Parser<readonly T[]> {
  const each = item ?? (string() as unknown as Parser<T>);
  return {
    expected: item ? `a comma-separated list of ${each.expected}` : 'a comma-separated list',
    parse(raw) {
      const parts = raw
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      return Object.freeze(
        parts.map((part) => {
          try {
            return each.parse(part);
          } catch (err) {
            throw new Error(`entry "${part}": ${(err as Error).message}`, { cause: err });
          }
        }),
      );
    },
    format: (values) => values.map((v) => (each.format ? each.format(v) : String(v))).join(','),
  };
}

export interface HostPort {
  /** An IP address or hostname; '' means every interface. IPv6 addresses come without brackets. */
  readonly host: string;
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;

/** "127.0.0.1:15010", "[::1]:15012", "istiod.istio-system.svc:15012" or ":15010" (every interface). */
export function hostPort(): Parser<HostPort> {
  return {
    expected: 'host:port, e.g. 127.0.0.1:15010, [::1]:15012 or :15010',
    parse(raw) {
      const text = raw.trim();
      const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(text);
      const plain = /^([^:[\]]*):(\d+)$/.exec(text);
      const match = bracketed ?? plain;
      if (!match) throw new Error('not host:port (IPv6 addresses need brackets)');
      const [, host, portText] = match;
      if (bracketed && isIP(host) !== 6) throw new Error(`"${host}" is not an IPv6 address`);
      if (!bracketed && host !== '' && isIP(host) !== 4 && !HOSTNAME.test(host)) {
        throw new Error(`"${host}" is not an IP address or hostname`);
      }
      const port = Number(portText);
      if (port > 65535) throw new Error(`port ${port} is above 65535`);
      return Object.freeze({ host, port });
    },
    format: ({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`),
  };
}

/** An IPv4 or IPv6 address, kept in its canonical form. */
export function ipAddress(): Parser<string> {
  return custom('an IP address', (raw) => {
    const ip = canonicalIp(raw.trim());
    if (ip === undefined) throw new Error('not an IP address');
    return ip;
  });
}

/**
 * A parser of your own: `parse` returns the value or throws an Error saying what is wrong;
 * `expected` describes what is accepted.
 */
export function custom<T>(
  expected: string,
  parse: (raw: string) => T,
  format?: (value: T) => string,
): Parser<T> {
  return format ? { expected, parse, format } : { expected, parse };
}
