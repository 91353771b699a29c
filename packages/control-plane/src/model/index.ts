// The control plane's typed model: Kubernetes inputs and the derived mesh objects.
export * from './kube.js';
export * from './gateway-api.js';
export * from './istio-networking.js';
export * from './istio-security.js';
export * from './options.js';
export * from './runtime.js';
export * from './well-known.js';
export type * from './waypoint-info.js';
export type * from './service-info.js';
export type * from './workload-info.js';
export type * from './policy-info.js';
export * from './supported-features.js';
