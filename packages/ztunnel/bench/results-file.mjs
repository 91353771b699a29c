// bench-results.txt holds one section per benchmark, each starting with a line
// "##### <title>"; a benchmark rewrites its own section and leaves the others as they are.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RESULTS = fileURLToPath(new URL('../bench-results.txt', import.meta.url));
const MARK = '##### ';

/** Replaces (or appends) the section titled `title` with `text`. */
export function writeSection(title, text) {
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const sections = [];
  let current;
  for (const line of old.split('\n')) {
    if (line.startsWith(MARK))
      sections.push((current = { title: line.slice(MARK.length), lines: [] }));
    // Text before any marker is the in-pod benchmark's, written before sections existed.
    else if (!current) sections.push((current = { title: INPOD, lines: [line] }));
    else current.lines.push(line);
  }
  const body = text.replace(/\n+$/, '').split('\n');
  const mine = sections.find((s) => s.title === title);
  if (mine) mine.lines = [...body, ''];
  else sections.push({ title, lines: [...body, ''] });
  const out = sections.map((s) => [`${MARK}${s.title}`, ...s.lines].join('\n')).join('\n');
  writeFileSync(RESULTS, out.replace(/\n+$/, '\n'));
}

export const INPOD = 'in-pod throughput and latency (npm run bench: bench/inpod-bench.mjs)';
