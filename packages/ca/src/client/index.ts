// The client side of the CA alone (subpath "@trellis/ca/client"): what ztunnels and waypoints need,
// without the server side's Kubernetes client (tens of MB of resident memory in a proxy).
export { createCaClient, type CaClient, type CaClientOptions } from './ca-client.js';
export {
  SecretManager,
  type CertificateRequester,
  type Clock,
  type SecretManagerOptions,
  type WorkloadCertificate,
} from './secret-manager.js';
export { CA_CLIENT_SETTINGS } from './settings.js';
