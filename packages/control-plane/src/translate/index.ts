// Pure translators from the mesh model to WDS resources (istio.workload.Address, istio.security.Authorization).
export {
  createStateTranslator,
  translateSnapshot,
  translateState,
  type StateTranslator,
  type TranslationNote,
  type WdsResources,
} from './translate-state.js';
export { workloadAddress } from './workload.js';
export { serviceAddress } from './service.js';
export { gatewayAddress } from './gateway-address.js';
export {
  authorizationFromPolicy,
  stringMatch,
  type AuthorizationTranslation,
} from './authorization.js';
export {
  authorizationFromPeerAuthentication,
  staticStrictAuthorization,
} from './peer-authentication.js';
export { resourcesToYaml } from './resources-yaml.js';
