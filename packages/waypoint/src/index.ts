// Public surface of @trellis/waypoint: the waypoint role. The L7 engine itself is the subpath
// export "@trellis/waypoint/engine" (shared with the ingress gateway role).
export { loadWaypointConfig, waypointSettings, PROGRAM, type WaypointConfig } from './config.js';
export {
  startWaypoint,
  waypointNodeId,
  tokenCredentials,
  type Waypoint,
  type WaypointDeps,
} from './waypoint/start.js';
export { caIdentity, staticIdentity, type WaypointIdentity } from './waypoint/identity.js';
export { hboneConnector, tcpConnect } from './waypoint/connector.js';
export { createHboneFront } from './waypoint/hbone-front.js';
