// What every endpoint of a running server shares: who it is, whether all ports are up yet, and
// the hook each request calls (graceful shutdown waits for requests to stop coming).
import type { ServerIdentity } from '../fields.pure.js';

export interface EndpointContext {
  identity: ServerIdentity;
  /** False until every listener is up; HTTP answers 503 until then, as upstream. */
  isReady(): boolean;
  reportRequest(): void;
  log(message: string): void;
  /** TLS key pair (PEM) for TLS listeners. */
  cert?: Buffer;
  key?: Buffer;
  disableAlpn: boolean;
}
