// `trellis x translate -f FILE...`: the resources the control plane would serve for these
// manifests, computed offline by the control plane's own pure code (ingest/manifests ->
// collections -> translate), printed as JSON or YAML.
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { EXIT, UsageError } from '../cli/command-spec.js';
import { translateManifests, type TranslateType } from '../mesh/translate.js';
import type { Handler } from './context.js';

export const translate: Handler = async (ctx) => {
  const files = ctx.flag<string[] | undefined>('filename') ?? [];
  if (files.length === 0)
    throw new UsageError('give the manifests with -f FILE (repeatable; - for stdin)', ctx.inv.path);
  const inputs = files.map((f) => {
    try {
      return { file: f === '-' ? '<stdin>' : f, text: readFileSync(f === '-' ? 0 : f, 'utf8') };
    } catch (e) {
      throw new Error(
        `-f ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
        { cause: e },
      );
    }
  });
  const result = translateManifests(inputs, ctx.flag<TranslateType>('type'), {
    rootNamespace: ctx.flag<string>('root-namespace'),
    trustDomain: ctx.flag<string>('trust-domain'),
    clusterId: ctx.flag<string>('cluster-id'),
  });
  for (const p of result.problems) ctx.log(`skipped: ${p}`);
  ctx.out(
    ctx.output() === 'json'
      ? `${JSON.stringify(result, null, 2)}\n`
      : stringify(result, { lineWidth: 0, aliasDuplicateObjects: false }),
  );
  return result.problems.length ? EXIT.problems : EXIT.ok;
};
