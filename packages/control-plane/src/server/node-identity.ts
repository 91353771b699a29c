// Whether an authenticated xDS caller may use the node id it sent. An Istio-style node id
// (`<type>~<ip>~<pod>.<ns>~<ns>.svc.<domain>`) claims a namespace, which decides what a proxy is
// served (a waypoint's Gateway is looked up in it); the claim must be the namespace the caller
// proved with its token or certificate, as Istio requires. Any other node id claims no namespace
// and gets nothing namespace-specific (the proxyless set, or the mesh-wide WDS). Pure.
import { parseIstioNodeId } from '@trellis/xds';

export interface AuthenticatedIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Why `nodeId` may not be used by `caller`, or undefined when it may. */
export function nodeIdentityRefusal(
  nodeId: string,
  caller: AuthenticatedIdentity,
): string | undefined {
  const node = parseIstioNodeId(nodeId);
  if (!node || node.namespace === caller.namespace) return undefined;
  return (
    `node id "${nodeId}" claims namespace "${node.namespace}", but the caller authenticated as ` +
    `namespace "${caller.namespace}" (service account "${caller.serviceAccount}")`
  );
}
