// Public surface of @trellis/pki: SPIFFE IDs, keys, CSRs, certificate issuing and verification,
// trust bundles and SPIFFE-checked mutual TLS for node:tls.
export {
  formatSpiffeId,
  parseSpiffeId,
  parseSpiffeUri,
  parseSvidSpiffeId,
  parseTrustDomain,
  SpiffeIdError,
  type SpiffeId,
  type WorkloadIdentity,
} from './spiffe.js';
export {
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  keyAlgorithmName,
  type KeyAlgorithm,
  type KeyPair,
  type PublicKeyAlgorithm,
  type SigningKey,
} from './keys.js';
export { dns1123LabelProblem, dns1123SubdomainProblem } from './kube-names.js';
export { createCsr, parseCsr, type CreateCsrOptions, type ParsedCsr } from './csr.js';
export { inspectCertificate, type CertificateInfo, type KeyUsageName } from './certificate.js';
export {
  createIntermediateCa,
  createRootCa,
  issueWorkloadCertificate,
  type CaCredentials,
  type CreateIntermediateCaOptions,
  type CreateRootCaOptions,
  type IssuedCertificate,
  type IssueWorkloadCertificateOptions,
} from './issue.js';
export { parseTrustBundle, type ParseTrustBundleOptions, type TrustBundle } from './bundle.js';
export { verifyChain, type VerifyChainOptions, type VerifyChainResult } from './verify.js';
export {
  peerSpiffeId,
  PeerRejectedError,
  verifyPeer,
  type PeerCheck,
  type PeerPolicy,
} from './peer.js';
export {
  createMtlsServer,
  mtlsClientOptions,
  mtlsServerOptions,
  type MtlsClientConfig,
  type MtlsCredentials,
  type MtlsServerConfig,
} from './mtls.js';
// @peculiar/x509, initialised once for Node's WebCrypto, for code that builds its own certificates.
export { x509 } from './x509.js';
