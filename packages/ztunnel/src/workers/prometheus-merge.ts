// Sums Prometheus text expositions (the primary's and every worker's) into one: samples with the
// same name and labels (in any order) add up, HELP/TYPE come from the first text that has them.
// Right for counters, histograms and additive gauges (open connections), which is what ztunnel's
// processes export. Pure.

export interface Family {
  readonly name: string;
  help?: string;
  type?: string;
  /** Series key (name plus sorted labels) -> value, in first-seen order. */
  readonly samples: Map<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+\S+)?$/;

/** Parses one exposition into families, in order. Throws on a line that is not a sample or comment. */
export function parsePrometheusText(text: string): Family[] {
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  let current: Family | undefined;
  const family = (name: string) => {
    let f = byName.get(name);
    if (!f) {
      f = { name, samples: new Map() };
      byName.set(name, f);
      families.push(f);
    }
    return f;
  };
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) continue;
      current = family(m[2]!);
      if (m[1] === 'HELP') current.help ??= m[3] ?? '';
      else current.type ??= m[3] ?? 'untyped';
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`metrics line ${i + 1} is not a sample: ${JSON.stringify(raw)}`);
    const name = m[1]!;
    const target = current && belongsTo(name, current) ? current : (current = family(name));
    const key = name + canonicalLabels(m[2] ?? '', i + 1);
    target.samples.set(key, (target.samples.get(key) ?? 0) + parseValue(m[3]!, i + 1));
  }
  return families;
}

/** Adds up families from several expositions (same family name and series key: values summed). */
export function mergeFamilies(sources: readonly (readonly Family[])[]): Family[] {
  const out: Family[] = [];
  const byName = new Map<string, Family>();
  for (const families of sources) {
    for (const f of families) {
      let into = byName.get(f.name);
      if (!into) {
        into = { name: f.name, samples: new Map() };
        byName.set(f.name, into);
        out.push(into);
      }
      if (into.help === undefined && f.help !== undefined) into.help = f.help;
      if (into.type === undefined && f.type !== undefined) into.type = f.type;
      for (const [key, value] of f.samples)
        into.samples.set(key, (into.samples.get(key) ?? 0) + value);
    }
  }
  return out;
}

/** Only the families that never go down (counters, histograms, summaries): what a dead worker leaves behind. */
export function monotonicFamilies(families: readonly Family[]): Family[] {
  return families.filter(
    (f) => f.type === 'counter' || f.type === 'histogram' || f.type === 'summary',
  );
}

export function formatPrometheusText(families: readonly Family[]): string {
  let out = '';
  for (const f of families) {
    if (f.help !== undefined) out += `# HELP ${f.name} ${f.help}\n`;
    if (f.type !== undefined) out += `# TYPE ${f.name} ${f.type}\n`;
    for (const [key, value] of f.samples) out += `${key} ${formatValue(value)}\n`;
    out += '\n';
  }
  return out;
}

/** The sum of several expositions as one exposition. */
export function mergePrometheusTexts(texts: readonly string[]): string {
  return formatPrometheusText(mergeFamilies(texts.map(parsePrometheusText)));
}

function belongsTo(sample: string, f: Family): boolean {
  if (sample === f.name) return true;
  const suffixes =
    f.type === 'histogram'
      ? ['_bucket', '_sum', '_count']
      : f.type === 'summary'
        ? ['_sum', '_count']
        : [];
  return suffixes.some((s) => sample === f.name + s);
}

/** `{b="2",a="1"}` -> `{a="1",b="2"}`, so the same series from two processes gets the same key. */
function canonicalLabels(block: string, line: number): string {
  if (block === '' || block === '{}') return '';
  const pairs: [string, string][] = [];
  let i = 1;
  const fail = () => new Error(`metrics line ${line}: malformed labels ${block}`);
  while (i < block.length - 1) {
    while (block[i] === ',' || block[i] === ' ') i++;
    if (i >= block.length - 1) break;
    const eq = block.indexOf('=', i);
    if (eq < 0 || block[eq + 1] !== '"') throw fail();
    const name = block.slice(i, eq).trim();
    let j = eq + 2;
    let value = '';
    for (; j < block.length - 1 && block[j] !== '"'; j++) {
      value += block[j] === '\\' ? block[j] + block[++j]! : block[j];
    }
    if (block[j] !== '"') throw fail();
    pairs.push([name, value]);
    i = j + 1;
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

function parseValue(raw: string, line: number): number {
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  const n = Number(raw);
  if (Number.isNaN(n))
    throw new Error(`metrics line ${line}: ${JSON.stringify(raw)} is not a number`);
  return n;
}

function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
