// The Kubernetes kinds the control plane watches: where each is listed and watched, and which
// ClusterSnapshot field it fills. CRDs may be missing from a cluster; core kinds may not.
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../model/kube.js';

export interface KubeKind {
  /** The ClusterSnapshot field. */
  readonly field: keyof ClusterSnapshot;
  /** Plural name for logs and the metrics' `type` label, e.g. "Pods", "AuthorizationPolicies". */
  readonly type: string;
  /** List/watch path across all namespaces. */
  readonly path: string;
  /** Set for custom resources (a 404 means the CRD is not installed). */
  readonly crd?: { readonly group: string; readonly version: string; readonly plural: string };
  /** `pilot_k8s_reg_events` (registry: pods, services, ...) or `pilot_k8s_cfg_events` (config CRDs). */
  readonly metric: 'reg' | 'cfg';
  /** Field selector of the list and the watch, when only some objects of the kind matter. */
  readonly fieldSelector?: string;
  list(): Promise<KubernetesListObject<KubernetesObject>>;
}

type List = KubernetesListObject<KubernetesObject>;

/** The Secrets the control plane lists and watches: all but Helm releases and service-account tokens. */
const SECRETS_FIELD_SELECTOR = 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token';

export function kubeKinds(kc: KubeConfig): KubeKind[] {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crd = (
    field: keyof ClusterSnapshot,
    type: string,
    group: string,
    version: string,
    plural: string,
  ): KubeKind => ({
    field,
    type,
    path: `/apis/${group}/${version}/${plural}`,
    crd: { group, version, plural },
    metric: 'cfg',
    list: () => custom.listClusterCustomObject({ group, version, plural }) as Promise<List>,
  });
  return [
    {
      field: 'namespaces',
      type: 'Namespaces',
      path: '/api/v1/namespaces',
      metric: 'reg',
      list: () => core.listNamespace() as Promise<List>,
    },
    {
      field: 'pods',
      type: 'Pods',
      path: '/api/v1/pods',
      metric: 'reg',
      list: () => core.listPodForAllNamespaces() as Promise<List>,
    },
    {
      field: 'services',
      type: 'Services',
      path: '/api/v1/services',
      metric: 'reg',
      list: () => core.listServiceForAllNamespaces() as Promise<List>,
    },
    {
      field: 'endpointSlices',
      type: 'EndpointSlices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      metric: 'reg',
      list: () => discovery.listEndpointSliceForAllNamespaces() as Promise<List>,
    },
    {
      field: 'nodes',
      type: 'Nodes',
      path: '/api/v1/nodes',
      metric: 'reg',
      list: () => core.listNode() as Promise<List>,
    },
    {
      field: 'serviceAccounts',
      type: 'ServiceAccounts',
      path: '/api/v1/serviceaccounts',
      metric: 'reg',
      list: () => core.listServiceAccountForAllNamespaces() as Promise<List>,
    },
    crd(
      'authorizationPolicies',
      'AuthorizationPolicies',
      'security.istio.io',
      'v1',
      'authorizationpolicies',
    ),
    crd(
      'peerAuthentications',
      'PeerAuthentications',
      'security.istio.io',
      'v1',
      'peerauthentications',
    ),
    crd(
      'requestAuthentications',
      'RequestAuthentications',
      'security.istio.io',
      'v1',
      'requestauthentications',
    ),
    crd('destinationRules', 'DestinationRules', 'networking.istio.io', 'v1', 'destinationrules'),
    crd('gateways', 'Gateways', 'gateway.networking.k8s.io', 'v1', 'gateways'),
    crd('httpRoutes', 'HTTPRoutes', 'gateway.networking.k8s.io', 'v1', 'httproutes'),
    crd('grpcRoutes', 'GRPCRoutes', 'gateway.networking.k8s.io', 'v1', 'grpcroutes'),
    // Experimental channel: missing CRDs count as empty.
    crd('gatewayClasses', 'GatewayClasses', 'gateway.networking.k8s.io', 'v1', 'gatewayclasses'),
    crd('tlsRoutes', 'TLSRoutes', 'gateway.networking.k8s.io', 'v1', 'tlsroutes'),
    crd('tcpRoutes', 'TCPRoutes', 'gateway.networking.k8s.io', 'v1', 'tcproutes'),
    crd('referenceGrants', 'ReferenceGrants', 'gateway.networking.k8s.io', 'v1', 'referencegrants'),
    crd('listenerSets', 'ListenerSets', 'gateway.networking.k8s.io', 'v1', 'listenersets'),
    crd(
      'backendTLSPolicies',
      'BackendTLSPolicies',
      'gateway.networking.k8s.io',
      'v1',
      'backendtlspolicies',
    ),
    {
      // CA certificates of BackendTLSPolicies (admission keeps only `ca.crt`).
      field: 'configMaps',
      type: 'ConfigMaps',
      path: '/api/v1/configmaps',
      metric: 'reg',
      list: () => core.listConfigMapForAllNamespaces() as Promise<List>,
    },
    {
      // Listener certificates of ingress Gateways (admission keeps only TLS Secrets' data). Helm's
      // release records and service-account tokens are never listener certificates and can be
      // many and large: not listed or watched (Istio's secret controller leaves out the same).
      field: 'secrets',
      type: 'Secrets',
      path: '/api/v1/secrets',
      metric: 'reg',
      fieldSelector: SECRETS_FIELD_SELECTOR,
      list: () =>
        core.listSecretForAllNamespaces({ fieldSelector: SECRETS_FIELD_SELECTOR }) as Promise<List>,
    },
  ];
}
