// -o table|json|yaml: every command that prints objects builds rows (for the table) and a value
// (for json/yaml) and lets this module write them.
import { stringify } from 'yaml';

export const OUTPUTS = ['table', 'json', 'yaml'] as const;
export type Output = (typeof OUTPUTS)[number];

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | undefined;
}

/** Columns showing these fields of each row, headed by the field names. */
export function fieldColumns<T>(...fields: (keyof T & string)[]): Column<T>[] {
  return fields.map((f) => ({
    header: f.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`),
    value: (row: T) => row[f] as string | number | undefined,
  }));
}

/** A table with upper-case headers, columns separated by at least two spaces. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((r) => columns.map((c) => String(c.value(r) ?? '-'))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return (
    cells
      .map((row) =>
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2)))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** The value as JSON or YAML, or the table (with `empty` when there are no rows). */
export function render<T>(
  output: Output,
  value: unknown,
  rows: readonly T[],
  columns: readonly Column<T>[],
  empty = 'nothing found\n',
): string {
  switch (output) {
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
    case 'table':
      return rows.length ? table(rows, columns) : empty;
  }
}

/** Seconds as 45s, 3m, 5h or 2d, the way kubectl shows ages. */
export function age(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 0) return `-${age(-seconds)}`;
  if (seconds < 120) return `${Math.floor(seconds)}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
