// The node-id check on the secure port: an Istio-style node id must name the caller's namespace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeIdentityRefusal } from './node-identity.js';

const ztunnel = { namespace: 'istio-system', serviceAccount: 'ztunnel' };
const reviews = { namespace: 'bookinfo', serviceAccount: 'reviews' };

test('an Istio node id is accepted only in the namespace the caller authenticated in', () => {
  const cases: [string, typeof ztunnel, RegExp | undefined][] = [
    [
      'ztunnel~10.0.0.9~ztunnel-abcde.istio-system~istio-system.svc.cluster.local',
      ztunnel,
      undefined,
    ],
    ['waypoint~10.0.1.2~waypoint-0.bookinfo~bookinfo.svc.cluster.local', reviews, undefined],
    // The service account is not part of the claim: any pod of the namespace may be named.
    ['sidecar~10.0.1.3~ratings-0.bookinfo~bookinfo.svc.cluster.local', reviews, undefined],
    [
      'ztunnel~10.0.0.9~ztunnel-abcde.istio-system~istio-system.svc.cluster.local',
      reviews,
      /claims namespace "istio-system", but the caller authenticated as namespace "bookinfo" \(service account "reviews"\)/,
    ],
    [
      'waypoint~10.0.1.2~waypoint-0.bookinfo~bookinfo.svc.cluster.local',
      ztunnel,
      /claims namespace "bookinfo".*namespace "istio-system"/,
    ],
    // The namespace is the first label of the domain, whatever the pod part says.
    [
      'ztunnel~10.0.0.9~x.bookinfo~istio-system.svc.cluster.local',
      reviews,
      /claims namespace "istio-system"/,
    ],
    // Not Istio-style: claims no namespace.
    ['my-grpc-client', reviews, undefined],
    ['a~b~c', reviews, undefined],
  ];
  for (const [nodeId, caller, refusal] of cases) {
    const got = nodeIdentityRefusal(nodeId, caller);
    if (refusal) assert.match(got ?? '(accepted)', refusal, nodeId);
    else assert.equal(got, undefined, nodeId);
  }
});
