// Authentication of xDS streams on the secure port. A stream is served when its caller shows
//  - `authorization: Bearer <token>` accepted by the same authenticator as the CA (TokenReview
//    in a cluster, the static token file without one), or
//  - a client certificate that chains to the mesh root (grpc-js verified it during the TLS
//    handshake) with a SPIFFE URI SAN of the mesh's trust domain.
// Anything else ends the stream with UNAUTHENTICATED and a message saying what was missing.
// The node id of the stream's first request must then name the caller's namespace (see
// node-identity.ts); otherwise the stream ends with PERMISSION_DENIED naming both namespaces.
import { status, type Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Authenticator, Caller } from '@trellis/ca';
import type { Logger } from '@trellis/core';
import { parseSpiffeId } from '@trellis/pki';
import type { AdsHandlers, XdsServer } from '@trellis/xds';
import { nodeIdentityRefusal } from './node-identity.js';

export interface XdsCaller extends Caller {
  /** How the caller proved who it is. */
  readonly via: 'token' | 'certificate';
}

export interface XdsAuthOptions {
  readonly authenticator: Authenticator;
  readonly trustDomain: string;
  readonly logger?: Logger;
}

/** Why a call was refused; becomes the UNAUTHENTICATED details. */
export class XdsAuthError extends Error {
  override readonly name = 'XdsAuthError';
}

/** Decides who is calling from the call's metadata and verified peer certificate. */
export async function authenticateXdsCall(
  metadata: Metadata,
  peerSubjectAltName: string | undefined,
  o: XdsAuthOptions,
): Promise<XdsCaller> {
  const header = metadata.get('authorization')[0];
  if (typeof header === 'string' && header !== '') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new XdsAuthError('the authorization header is not "Bearer <token>"');
    try {
      return { ...(await o.authenticator.authenticate(m[1]!)), via: 'token' };
    } catch (err) {
      throw new XdsAuthError(`the bearer token was refused: ${(err as Error).message}`);
    }
  }
  const fromCert = callerFromSubjectAltName(peerSubjectAltName, o.trustDomain);
  if (fromCert) return fromCert;
  throw new XdsAuthError(
    'no credentials: send "authorization: Bearer <service-account token>" or a mesh client certificate',
  );
}

/** The workload identity in a verified certificate's subjectAltName ("URI:spiffe://..., DNS:..."), if any. */
export function callerFromSubjectAltName(
  san: string | undefined,
  trustDomain: string,
): XdsCaller | undefined {
  for (const entry of (san ?? '').split(/,\s*/)) {
    if (!entry.startsWith('URI:spiffe://')) continue;
    try {
      const id = parseSpiffeId(entry.slice('URI:'.length));
      if (id.trustDomain === trustDomain)
        return { namespace: id.namespace, serviceAccount: id.serviceAccount, via: 'certificate' };
    } catch {
      // Not a workload identity; look at the next SAN.
    }
  }
  return undefined;
}

/**
 * ADS handlers of `xds` that authenticate each stream before it is served, and refuse a stream
 * whose node id claims another namespace than the one its caller authenticated in.
 */
export function authenticatedAdsHandlers(
  xds: Pick<XdsServer<unknown>, 'admittingHandlers'>,
  o: XdsAuthOptions,
): AdsHandlers {
  const callers = new WeakMap<object, XdsCaller>();
  const handlers = xds.admittingHandlers((proxy, call) => {
    const caller = callers.get(call);
    // Only streams that passed authentication below reach the server.
    if (!caller)
      return { code: status.UNAUTHENTICATED, details: 'the stream was not authenticated' };
    const refusal = nodeIdentityRefusal(proxy.id, caller);
    if (!refusal) return undefined;
    o.logger?.warn(
      { peer: proxy.peer, node: proxy.id, caller: `${caller.namespace}/${caller.serviceAccount}` },
      "xDS stream refused: node id outside the caller's namespace",
    );
    return { code: status.PERMISSION_DENIED, details: refusal };
  });
  const guard =
    <Req, Res>(serve: (call: ServerDuplexStream<Req, Res>) => void) =>
    (call: ServerDuplexStream<Req, Res>) => {
      // Messages that arrive meanwhile stay buffered: nothing reads the stream until `serve`.
      const san = call.getAuthContext().sslPeerCertificate?.subjectaltname;
      authenticateXdsCall(call.metadata, san, o).then(
        (caller) => {
          if (call.cancelled) return;
          o.logger?.debug(
            {
              peer: call.getPeer(),
              caller: `${caller.namespace}/${caller.serviceAccount}`,
              via: caller.via,
            },
            'xDS stream authenticated',
          );
          callers.set(call, caller);
          serve(call);
        },
        (err: Error) => {
          o.logger?.warn({ peer: call.getPeer(), reason: err.message }, 'xDS stream refused');
          call.emit(
            'error',
            Object.assign(new Error(err.message), {
              code: status.UNAUTHENTICATED,
              details: err.message,
            }),
          );
        },
      );
    };
  return {
    streamAggregatedResources: guard(handlers.streamAggregatedResources.bind(handlers)),
    deltaAggregatedResources: guard(handlers.deltaAggregatedResources.bind(handlers)),
  } as AdsHandlers;
}
