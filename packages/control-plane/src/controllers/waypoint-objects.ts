// What a waypoint Gateway should run: a ServiceAccount, a Deployment and a Service named after the
// Gateway and owned by it (Kubernetes garbage-collects them with it). The same builder makes an
// ingress gateway's objects (gateway-objects.ts), given the role's differences (`ProxyRole`).
// Pure: Gateway in, objects out.
import type {
  V1Deployment,
  V1Service,
  V1ServiceAccount,
  V1OwnerReference,
} from '@kubernetes/client-node';
import type { Gateway } from '../model/gateway-api.js';
import { COMPONENT_NODE_OPTIONS } from '../model/runtime.js';
import {
  DATAPLANE_MODE_NONE,
  HBONE_PORT,
  LABEL_CANONICAL_NAME,
  LABEL_CANONICAL_REVISION,
  LABEL_DATAPLANE_MODE,
  LABEL_GATEWAY_NAME,
  LABEL_TUNNEL,
} from '../model/well-known.js';

export interface WaypointDeploymentOptions {
  /** Container image, e.g. trellis/waypoint:dev. */
  readonly image: string;
  /** xDS and CA address given to the waypoint, e.g. istiod.istio-system.svc:15012. */
  readonly controlPlaneAddress: string;
  readonly trustDomain: string;
  readonly clusterId: string;
  /** OTLP/gRPC collector the waypoints export traces to (http://host:4317); none: no traces. */
  readonly otlpEndpoint?: string;
}

/** What differs between the waypoint and the ingress gateway deployments. */
export interface ProxyRole {
  /** Name of the ServiceAccount, Deployment and Service. */
  readonly name: string;
  /** Extra pod labels. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Labels and annotations of every object (and the pod template). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Extra annotations and the requested load-balancer IP of the Service only. */
  readonly service?: {
    readonly annotations: Readonly<Record<string, string>>;
    readonly loadBalancerIP?: string;
  };
  /** Container arguments. */
  readonly args: readonly string[];
  /** Container and Service ports besides status-port (and metrics, in the container). */
  readonly ports: readonly { name: string; port: number }[];
  readonly serviceType: string;
  /** Expose metrics through the Service too. */
  readonly serviceMetrics: boolean;
  readonly replicas?: number;
}

export interface WaypointObjects {
  readonly serviceAccount: V1ServiceAccount;
  readonly deployment: V1Deployment;
  readonly service: V1Service;
}

/** Marks objects this controller manages (Istio uses the same label key). */
export const LABEL_MANAGED = 'gateway.istio.io/managed';
export const MANAGED_BY = 'trellis.dev-waypoint-controller';
export const STATUS_PORT = 15021;
export const METRICS_PORT = 15020;
const TOKEN_DIR = '/var/run/secrets/tokens';
const ROOT_CERT_DIR = '/var/run/secrets/istio';

export function waypointObjects(gw: Gateway, o: WaypointDeploymentOptions): WaypointObjects {
  return proxyObjects(gw, o, {
    name: gw.metadata?.name ?? '',
    podLabels: {
      // It accepts HBONE on 15008 itself.
      [LABEL_TUNNEL]: 'http',
    },
    labels: {},
    annotations: {},
    args: [],
    ports: [{ name: 'mesh', port: HBONE_PORT }],
    serviceType: 'ClusterIP',
    serviceMetrics: true,
  });
}

/** The ServiceAccount, Deployment and Service of a proxy in `role`, owned by the Gateway. */
export function proxyObjects(
  gw: Gateway,
  o: WaypointDeploymentOptions,
  role: ProxyRole,
): WaypointObjects {
  const gatewayName = gw.metadata?.name ?? '';
  const name = role.name;
  const namespace = gw.metadata?.namespace ?? 'default';
  if (!gatewayName || !gw.metadata?.uid)
    throw new Error('a Gateway needs metadata.name and metadata.uid to own its waypoint');
  const ownerReferences: V1OwnerReference[] = [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      name: gatewayName,
      uid: gw.metadata.uid,
      controller: true,
    },
  ];
  const labels = { ...role.labels, [LABEL_GATEWAY_NAME]: gatewayName, [LABEL_MANAGED]: MANAGED_BY };
  const annotations =
    Object.keys(role.annotations).length > 0 ? { annotations: role.annotations } : {};
  const meta = { name, namespace, labels, ...annotations, ownerReferences };
  const selector = { [LABEL_GATEWAY_NAME]: gatewayName };
  // The proxy runs as uid 1337 (deploy/images): a listener on a port below 1024 (an ingress
  // gateway's 80, 443) needs the pod's unprivileged ports to start at 0, as Istio's gateway
  // template sets. The sysctl is namespaced and in Kubernetes' safe set (no kubelet flag needed).
  const lowPorts = role.ports.some((p) => p.port < 1024);
  const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });

  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: {
      ...(role.replicas !== undefined ? { replicas: role.replicas } : {}),
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: {
            ...role.labels,
            ...selector,
            // The proxy speaks HBONE itself; ztunnel must not capture its traffic.
            [LABEL_DATAPLANE_MODE]: DATAPLANE_MODE_NONE,
            [LABEL_CANONICAL_NAME]: name,
            [LABEL_CANONICAL_REVISION]: 'latest',
            ...role.podLabels,
          },
          ...(Object.keys(role.annotations).length > 0
            ? { annotations: { ...role.annotations } }
            : {}),
        },
        spec: {
          serviceAccountName: name,
          ...(lowPorts
            ? {
                securityContext: {
                  sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
                },
              }
            : {}),
          containers: [
            {
              name: 'waypoint',
              image: o.image,
              ...(role.args.length > 0 ? { args: [...role.args] } : {}),
              ports: [
                ...role.ports.map((p) => ({
                  name: p.name,
                  containerPort: p.port,
                  protocol: 'TCP',
                })),
                { name: 'status-port', containerPort: STATUS_PORT, protocol: 'TCP' },
                { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
              ],
              env: [
                { name: 'XDS_ADDRESS', value: o.controlPlaneAddress },
                { name: 'CA_ADDRESS', value: o.controlPlaneAddress },
                { name: 'CA_ROOT_CA', value: `${ROOT_CERT_DIR}/root-cert.pem` },
                { name: 'AUTH_TOKEN', value: `${TOKEN_DIR}/istio-token` },
                { name: 'TRUST_DOMAIN', value: o.trustDomain },
                { name: 'CLUSTER_ID', value: o.clusterId },
                { name: 'GATEWAY_NAME', value: gatewayName },
                { name: 'POD_NAME', ...field('metadata.name') },
                { name: 'POD_NAMESPACE', ...field('metadata.namespace') },
                { name: 'INSTANCE_IP', ...field('status.podIP') },
                { name: 'NODE_NAME', ...field('spec.nodeName') },
                { name: 'SERVICE_ACCOUNT', ...field('spec.serviceAccountName') },
                ...(o.otlpEndpoint
                  ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: o.otlpEndpoint }]
                  : []),
                { name: 'NODE_OPTIONS', value: COMPONENT_NODE_OPTIONS },
              ],
              readinessProbe: {
                httpGet: { path: '/healthz/ready', port: STATUS_PORT },
                periodSeconds: 5,
              },
              volumeMounts: [
                { name: 'istio-token', mountPath: TOKEN_DIR, readOnly: true },
                { name: 'istio-ca-root-cert', mountPath: ROOT_CERT_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            {
              name: 'istio-token',
              projected: {
                sources: [
                  {
                    serviceAccountToken: {
                      path: 'istio-token',
                      audience: 'istio-ca',
                      expirationSeconds: 43200,
                    },
                  },
                ],
              },
            },
            { name: 'istio-ca-root-cert', configMap: { name: 'istio-ca-root-cert' } },
          ],
        },
      },
    },
  };

  const serviceAnnotations = { ...role.annotations, ...role.service?.annotations };
  const loadBalancerIP = role.service?.loadBalancerIP;
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata:
      Object.keys(serviceAnnotations).length > 0
        ? { ...meta, annotations: serviceAnnotations }
        : meta,
    spec: {
      type: role.serviceType,
      ...(loadBalancerIP ? { loadBalancerIP } : {}),
      selector,
      ports: [
        ...role.ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: p.port,
          protocol: 'TCP',
        })),
        { name: 'status-port', port: STATUS_PORT, targetPort: STATUS_PORT, protocol: 'TCP' },
        ...(role.serviceMetrics
          ? [{ name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT, protocol: 'TCP' }]
          : []),
      ],
    },
  };

  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    deployment,
    service,
  };
}
