// bench-results.txt holds one section per benchmark (`# --- <name> ---` lines start them): each
// benchmark rewrites its own section and keeps the others.
import { readFile, writeFile } from 'node:fs/promises';

const MARKER = /^# --- (\S+) ---$/;

export async function writeSection(file: string, name: string, text: string): Promise<void> {
  let current = '';
  try {
    current = await readFile(file, 'utf8');
  } catch {
    // no file yet
  }
  const sections = new Map<string, string[]>();
  let section = 'scale'; // text before any marker is the scale benchmark's (older files)
  for (const line of current.split('\n')) {
    const m = MARKER.exec(line);
    if (m) {
      section = m[1]!;
      continue;
    }
    const lines = sections.get(section) ?? [];
    lines.push(line);
    sections.set(section, lines);
  }
  sections.set(name, text.replace(/\n+$/, '').split('\n'));
  const out: string[] = [];
  for (const [n, lines] of sections) {
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    if (lines.length === 0) continue;
    out.push(`# --- ${n} ---`, ...lines, '');
  }
  await writeFile(file, out.join('\n'));
}
