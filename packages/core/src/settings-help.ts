// --help text generated from a settings spec, so the documentation cannot drift from the code.
import type { Setting, SettingsSpec } from './settings.js';

/**
 * Renders usage for `program`: one entry per setting with its flag, environment variable,
 * accepted values, default (or "required") and description.
 */
export function helpText(program: string, summary: string, spec: SettingsSpec): string {
  const lines = [`${program}: ${summary}`, '', `Usage: ${program} [--flag=value ...]`, ''];
  lines.push('Settings (a flag wins over its environment variable, which wins over the default):');
  for (const setting of Object.values(spec)) {
    lines.push('');
    lines.push(`  ${[setting.flag, setting.env].filter((n) => n !== undefined).join(', ')}`);
    lines.push(`      ${setting.description}`);
    lines.push(`      Accepts ${setting.parser.expected}. ${defaultNote(setting)}`);
  }
  return lines.join('\n') + '\n';
}

function defaultNote(setting: Setting<unknown>): string {
  if (setting.required) return 'Required.';
  if (!('default' in setting) || setting.default === undefined) return 'Optional, no default.';
  const value = setting.parser.format
    ? setting.parser.format(setting.default)
    : String(setting.default);
  return `Default: ${value === '' ? '""' : value}.`;
}
