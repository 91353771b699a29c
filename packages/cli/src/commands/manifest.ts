// `trellis manifest generate`: the objects install would apply, without a cluster.
import { stringify } from 'yaml';
import { EXIT } from '../cli/command-spec.js';
import { applyOrder } from '../kube/objects.pure.js';
import { installManifests } from '../manifests/bundle.js';
import type { Profile } from '../manifests/values.pure.js';
import { valuesFlag } from './shared-flags.js';
import type { Handler } from './context.js';

export const manifestGenerate: Handler = async (ctx) => {
  const objects = applyOrder(installManifests(ctx.flag<Profile>('profile'), valuesFlag(ctx)));
  if (ctx.output() === 'json')
    ctx.out(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`);
  else
    ctx.out(
      objects
        .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
        .join('---\n'),
    );
  return EXIT.ok;
};
