// Public surface of @trellis/ca: the certificate authority (embeddable and gRPC-served) and the
// client-side secret manager for ztunnel and waypoints.
export {
  CertificateAuthority,
  CaError,
  type CaErrorCode,
  type CertificateAuthorityOptions,
  type SignRequest,
} from './authority.js';
export {
  createCaServer,
  caServiceHandlers,
  signRequestFrom,
  type CaServer,
  type CaServerOptions,
} from './server.js';
export { authorize, type AuthorizeDecision, type AuthorizeInput } from './authorize.js';
export { issueServingCert, type ServingCert, type ServingCertOptions } from './serving-cert.js';
export {
  csrProblem,
  grantedTtl,
  type CsrProblem,
  type TtlDecision,
  type TtlPolicy,
} from './csr-policy.js';
export {
  AuthenticationError,
  parseServiceAccountRef,
  type Authenticator,
  type Caller,
  type NodeIndex,
  type ServiceAccountRef,
} from './caller.js';
export {
  parseStaticTokens,
  readStaticTokens,
  staticIdentities,
  type StaticTokenEntry,
} from './authn/static.js';
export {
  callerFromTokenReview,
  tokenReviewAuthenticator,
  type ReviewedCaller,
  type TokenReviewOptions,
} from './authn/token-review.js';
export { indexPodsByNode, startPodIndex, type PodIndex } from './authn/pod-index.js';
export { CA_FILES, type CaFiles, type CaStore } from './ca-files.js';
export { caFromFiles, loadOrCreateCa, type CaMaterial } from './roots.js';
export { dirStore } from './dir-store.js';
export { CA_SECRET_NAME, secretStore } from './secret-store.js';
export { publishRoot, rootConfigMap, rootConfigMapAction, ROOT_CONFIGMAP } from './publish-root.js';
export { caMetrics, type CaMetrics, type CsrResult } from './metrics.js';
export { caSettings, loadCaConfig } from './config.js';
export { createCaClient, type CaClient, type CaClientOptions } from './client/ca-client.js';
export {
  SecretManager,
  type SecretManagerOptions,
  type WorkloadCertificate,
  type Clock,
} from './client/secret-manager.js';
