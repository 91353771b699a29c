// How Trellis's Node.js components run in their pods.

/**
 * NODE_OPTIONS of every Trellis container: the control plane, ztunnel (and its workers, which
 * inherit it), the CNI agent (deploy/) and the waypoint and gateway Deployments the control plane
 * writes. V8's young generation grows to two 16 MiB semi-spaces in the start-up burst (loading the
 * xDS descriptors) or under load and keeps those pages; 8 MiB semi-spaces keep about 17 MiB less
 * resident per process (waypoint after a saturating load: 121 -> 104 MiB) for the same share of CPU
 * in the garbage collector (the engine's hot path: 8.9 % -> 8.8 %; 4 MiB would cost 15 %). Users
 * may replace it in their own overlays like any environment variable.
 */
export const COMPONENT_NODE_OPTIONS = '--max-semi-space-size=8';
