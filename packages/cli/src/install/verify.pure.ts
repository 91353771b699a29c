// `trellis status` / `verify-install`: each object an install should have, compared with what
// the cluster holds. Pure: expected and live objects in, one check per object out.
import { describeRef, refKey, refOf, type KubeObject } from '../kube/objects.pure.js';
import { containersOf, COMPONENT } from '../manifests/render.pure.js';
import { workloadProgress } from './rollout-status.pure.js';

export type CheckState = 'ok' | 'missing' | 'not-ready' | 'outdated';

export interface ObjectCheck {
  readonly component: string;
  readonly object: string;
  readonly state: CheckState;
  readonly detail: string;
}

export function verifyInstall(
  expected: readonly KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
): ObjectCheck[] {
  return expected.map((want) => {
    const ref = refOf(want);
    const component = want.metadata?.labels?.[COMPONENT] ?? 'base';
    const object = describeRef(ref);
    const have = live.get(refKey(ref));
    if (!have) return { component, object, state: 'missing', detail: 'not found' };
    if (want.kind === 'CustomResourceDefinition') {
      const established = (have.status?.conditions ?? []).some(
        (c: KubeObject) => c.type === 'Established' && c.status === 'True',
      );
      return established
        ? { component, object, state: 'ok', detail: 'established' }
        : { component, object, state: 'not-ready', detail: 'not Established' };
    }
    if (want.kind === 'Deployment' || want.kind === 'DaemonSet') {
      const wantImages = containersOf(want).map((c) => c.image);
      const haveImages = containersOf(have).map((c) => c.image);
      if (wantImages.join() !== haveImages.join())
        return {
          component,
          object,
          state: 'outdated',
          detail: `runs ${haveImages.join(', ')}, this CLI installs ${wantImages.join(', ')} (trellis install upgrades it)`,
        };
      const p = workloadProgress(have);
      return { component, object, state: p.done ? 'ok' : 'not-ready', detail: p.summary };
    }
    return { component, object, state: 'ok', detail: 'present' };
  });
}
