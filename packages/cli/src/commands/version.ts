// `trellis version`: this CLI's version and, when a cluster is reachable, the installed one.
import { EXIT } from '../cli/command-spec.js';
import { CLI_VERSION } from '../manifests/bundle.js';
import { NAMESPACE, VERSION_LABEL } from '../manifests/render.pure.js';
import { render } from '../output/format.pure.js';
import type { Handler } from './context.js';

export const version: Handler = async (ctx) => {
  let installed: string | undefined;
  let kubernetes: string | undefined;
  let error: string | undefined;
  try {
    const kube = await ctx.kube();
    kubernetes = (await kube.serverVersion()).gitVersion;
    const cp = await kube.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NAMESPACE,
      name: 'trellis-control-plane',
    });
    installed = cp?.metadata?.labels?.[VERSION_LABEL] ?? (cp ? 'unknown' : 'not installed');
  } catch (e) {
    error = (e as Error).message;
  }
  const value = { client: CLI_VERSION, controlPlane: installed, kubernetes };
  const rows = [
    { what: 'client', version: CLI_VERSION },
    { what: 'control plane', version: installed ?? `unknown (${error})` },
    { what: 'kubernetes', version: kubernetes ?? '-' },
  ];
  ctx.out(
    render(ctx.output(), value, rows, [
      { header: 'component', value: (r) => r.what },
      { header: 'version', value: (r) => r.version },
    ]),
  );
  return EXIT.ok;
};
