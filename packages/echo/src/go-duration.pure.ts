// Durations written as Go writes and reads them (time.ParseDuration, time.Duration.String), since
// the echo app's flags (`--timeout=5s`), query options (`?delay=100ms`) and `Latency=` output use
// that notation. Values are whole nanoseconds held in a number (exact up to about 104 days).

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses "300ms", "1.5h", "2h45m", "-1s" or "0" into nanoseconds; throws on anything else. */
export function parseGoDuration(text: string): number {
  const bad = () => new Error(`invalid duration "${text}" (want e.g. 5s, 100ms, 1m30s)`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw bad();
    const unit = UNIT_NS[m[3]!]!;
    total += Number(m[1] || '0') * unit + (m[2] ? Number(`0.${m[2]}`) * unit : 0);
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Go's Duration.String: "0s", "999ns", "1.5µs", "12.345678ms", "1.5s", "1m30s", "2h0m0s". */
export function formatGoDuration(ns: number): string {
  const n = Math.round(Math.abs(ns));
  const sign = ns < 0 && n !== 0 ? '-' : '';
  if (n === 0) return '0s';
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${decimal(n, 1e3)}µs`;
  if (n < 1e9) return `${sign}${decimal(n, 1e6)}ms`;
  const hours = Math.floor(n / 3600e9);
  const minutes = Math.floor((n % 3600e9) / 60e9);
  const seconds = `${decimal(n % 60e9, 1e9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** `value / unit` with the fraction's trailing zeros (and a bare point) dropped. */
function decimal(value: number, unit: number): string {
  const whole = Math.floor(value / unit);
  const digits = String(unit).length - 1;
  const fraction = String(value % unit)
    .padStart(digits, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}
