// The upstream ConformanceReport (gateway.networking.k8s.io/v1, kind ConformanceReport) as the
// suite writes it, read back for the runner's summary. Pure.
import { parse } from 'yaml';

export interface LevelResult {
  readonly result: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failedTests: readonly string[];
  readonly skippedTests: readonly string[];
}

export interface ProfileResult {
  readonly name: string;
  readonly core: LevelResult;
  readonly extended:
    (LevelResult & { readonly unsupportedFeatures: readonly string[] }) | undefined;
}

export interface ReportSummary {
  readonly gatewayAPIVersion: string;
  readonly gatewayAPIChannel: string;
  readonly implementationVersion: string;
  readonly profiles: readonly ProfileResult[];
  readonly succeededProvisionalTests: readonly string[];
}

/** `conformance/reports/<gateway-api-version>-trellis-<version>.yaml`, relative to the repo. */
export function reportPath(gatewayApiVersion: string, trellisVersion: string): string {
  const v = (s: string) => {
    if (!/^v?\d+\.\d+\.\d+[-+.\w]*$/.test(s)) throw new Error(`"${s}" is not a version`);
    return s;
  };
  return `conformance/reports/${v(gatewayApiVersion)}-trellis-${v(trellisVersion)}.yaml`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = any;

function level(raw: Raw, where: string): LevelResult {
  if (!raw || typeof raw !== 'object') throw new Error(`${where}: missing`);
  const stats = raw.statistics ?? {};
  const count = (k: string) => {
    const n = stats[k] ?? 0;
    if (!Number.isInteger(n) || n < 0) throw new Error(`${where}.statistics.${k}: not a count`);
    return n as number;
  };
  return {
    result: String(raw.result ?? ''),
    passed: count('Passed'),
    failed: count('Failed'),
    skipped: count('Skipped'),
    failedTests: (raw.failedTests ?? []).map(String),
    skippedTests: (raw.skippedTests ?? []).map(String),
  };
}

/** Reads a report; throws saying which field is wrong when it is not one. */
export function parseReport(text: string): ReportSummary {
  const raw: Raw = parse(text);
  if (raw?.kind !== 'ConformanceReport')
    throw new Error(`not a ConformanceReport (kind ${JSON.stringify(raw?.kind)})`);
  if (!Array.isArray(raw.profiles)) throw new Error('profiles: not a list');
  return {
    gatewayAPIVersion: String(raw.gatewayAPIVersion ?? ''),
    gatewayAPIChannel: String(raw.gatewayAPIChannel ?? ''),
    implementationVersion: String(raw.implementation?.version ?? ''),
    succeededProvisionalTests: (raw.succeededProvisionalTests ?? []).map(String),
    profiles: raw.profiles.map((p: Raw, i: number) => {
      const where = `profiles[${i}]`;
      if (typeof p?.name !== 'string') throw new Error(`${where}.name: missing`);
      return {
        name: p.name,
        core: level(p.core, `${where}.core`),
        extended: p.extended
          ? {
              ...level(p.extended, `${where}.extended`),
              unsupportedFeatures: (p.extended.unsupportedFeatures ?? []).map(String),
            }
          : undefined,
      };
    }),
  };
}

const counts = (l: LevelResult) =>
  `${l.passed} passed, ${l.failed} failed, ${l.skipped} skipped (${l.result})`;

/** The runner's per-profile lines; `reasons` says why a skipped test cannot pass. */
export function summaryLines(
  report: ReportSummary,
  reasons: Readonly<Record<string, string>> = {},
): string[] {
  const lines: string[] = [];
  const tests = (label: string, names: readonly string[], why = false) => {
    for (const n of names)
      lines.push(`      ${label}: ${n}${why && reasons[n] ? ` (${reasons[n]})` : ''}`);
  };
  for (const p of [...report.profiles].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`  ${p.name}`);
    lines.push(`    core      ${counts(p.core)}`);
    tests('FAILED', p.core.failedTests);
    tests('skipped', p.core.skippedTests, true);
    if (p.extended) {
      lines.push(`    extended  ${counts(p.extended)}`);
      tests('FAILED', p.extended.failedTests);
      tests('skipped', p.extended.skippedTests, true);
      if (p.extended.unsupportedFeatures.length)
        lines.push(`      unsupported features: ${p.extended.unsupportedFeatures.join(', ')}`);
    }
  }
  return lines;
}

/** Failed tests over every profile (the runner's exit status). */
export function failedCount(report: ReportSummary): number {
  return report.profiles.reduce((n, p) => n + p.core.failed + (p.extended?.failed ?? 0), 0);
}
