// The identity of the other end of a TLS connection, and the SPIFFE checks and authorization
// applied to it on top of the chain validation Node's OpenSSL already did.
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import type { TrustBundle } from './bundle.js';
import { parseCertificate } from './certificate.js';
import { checkLeafIdentity, type IdentityCheck } from './leaf-identity.js';
import { encodePem } from './pem.js';
import type { SpiffeId } from './spiffe.js';
import { verifyChain } from './verify.js';

/** Who may be on the other end. With neither expectedIdentity nor authorize, any ID of the trust domain is accepted. */
export interface PeerPolicy {
  /** Its trustDomain, when set, restricts peers to that trust domain. */
  readonly trustBundle: TrustBundle;
  /** The exact SPIFFE ID the peer must have. */
  readonly expectedIdentity?: string;
  /** Returns true to accept the peer. */
  readonly authorize?: (peer: SpiffeId) => boolean;
}

export type PeerCheck = IdentityCheck;

/** Raised when a peer is refused; `reason` says why. */
export class PeerRejectedError extends Error {
  readonly code = 'ERR_SPIFFE_PEER_REJECTED';
  constructor(readonly reason: string) {
    super(`peer rejected: ${reason}`);
    this.name = 'PeerRejectedError';
  }
}

/**
 * The SPIFFE ID in the peer's certificate. Throws PeerRejectedError when there is no certificate or
 * not exactly one valid URI SAN. It does not check trust or authorization: see verifyPeer.
 */
export function peerSpiffeId(socket: TLSSocket): SpiffeId {
  const cert = peerLeaf(socket);
  if (!cert) throw new PeerRejectedError('the peer presented no certificate');
  const check = leafIdentity(cert.raw, undefined);
  if (!check.ok) throw new PeerRejectedError(check.reason);
  return check.spiffeId;
}

/**
 * Checks an established socket's peer against the policy. When Node did not verify the peer's chain
 * (a server created with rejectUnauthorized: false), the reason is worked out with verifyChain.
 */
export function verifyPeer(socket: TLSSocket, policy: PeerPolicy): PeerCheck {
  const cert = peerLeaf(socket);
  if (!cert) return { ok: false, reason: 'the peer presented no certificate' };
  if (!socket.authorized) return { ok: false, reason: chainRejection(socket, policy.trustBundle) };
  return verifyPeerCertificate(cert.raw, policy);
}

/** A `checkServerIdentity` that compares SPIFFE IDs instead of DNS names. */
export function spiffeServerIdentityCheck(
  policy: PeerPolicy,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const check = verifyPeerCertificate(cert.raw, policy);
    return check.ok ? undefined : new PeerRejectedError(check.reason);
  };
}

function verifyPeerCertificate(der: Buffer, policy: PeerPolicy): PeerCheck {
  const check = leafIdentity(der, policy.trustBundle.trustDomain);
  if (!check.ok) return check;
  const peer = check.spiffeId;
  if (policy.expectedIdentity !== undefined && peer.uri !== policy.expectedIdentity) {
    return {
      ok: false,
      reason: `peer identity ${peer.uri} is not the expected ${policy.expectedIdentity}`,
    };
  }
  if (policy.authorize) {
    let allowed: boolean;
    try {
      allowed = policy.authorize(peer);
    } catch (err) {
      return { ok: false, reason: `authorizing ${peer.uri} failed: ${(err as Error).message}` };
    }
    if (!allowed) return { ok: false, reason: `peer identity ${peer.uri} is not authorized` };
  }
  return check;
}

/**
 * checkLeafIdentity of a peer's leaf certificate, remembered by its bytes: parsing a certificate in
 * JavaScript costs milliseconds of CPU (~10 ms on a slow core), and every TLS connection of a peer
 * presents the same leaf until it rotates. The handshake has validated the chain before this runs,
 * so what is remembered was issued by a trusted CA; the memory is emptied when full all the same.
 */
function leafIdentity(der: Buffer, trustDomain: string | undefined): IdentityCheck {
  const key = `${trustDomain ?? ''} ${der.toString('base64')}`;
  let check = leafChecks.get(key);
  if (check) return check;
  try {
    check = checkLeafIdentity(parseCertificate(der, 'peer certificate').info, trustDomain);
  } catch (err) {
    check = { ok: false, reason: (err as Error).message };
  }
  Object.freeze(check);
  if (leafChecks.size >= REMEMBERED_LEAVES) leafChecks.clear();
  leafChecks.set(key, check);
  return check;
}
const leafChecks = new Map<string, IdentityCheck>();
const REMEMBERED_LEAVES = 1024;

// getPeerCertificate, not getPeerX509Certificate: on Node 20 a call to the latter makes later
// getPeerCertificate(true) calls on the socket return the leaf without its issuer chain.
function peerLeaf(socket: TLSSocket): { raw: Buffer } | undefined {
  const cert = socket.getPeerCertificate();
  return cert?.raw ? cert : undefined;
}

/** Why OpenSSL refused the peer's chain, in verifyChain's words plus OpenSSL's code. */
function chainRejection(socket: TLSSocket, trustBundle: TrustBundle): string {
  const code = String(socket.authorizationError ?? 'unknown error');
  const [leaf, ...intermediates] = presentedChain(socket).map((der) =>
    encodePem('CERTIFICATE', der),
  );
  const check = leaf ? verifyChain({ leaf, intermediates, trustBundle }) : undefined;
  return check && !check.ok
    ? `${check.reason} (${code})`
    : `the peer certificate chain was not verified (${code})`;
}

/** The peer's certificates as DER, leaf first, following issuer links until a self-signed one. */
function presentedChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  for (
    let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
    c?.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    chain.push(c.raw);
  }
  return chain;
}
