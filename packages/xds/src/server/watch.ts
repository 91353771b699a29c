// Per connection and type: what the client subscribed to, what was sent, what it ACKed, and
// whether a response is owed. Pure state and transitions; the streams drive them.
import type { Any } from '@bufbuild/protobuf/wkt';
import { NOTHING, subscriptionNames, type Subscription } from '../subscription.js';
import type { TypeDebug } from './types.js';

/** A resource the client still gets (SotW) or is not yet told is gone (delta); see `retained`. */
export interface RetainedResource {
  readonly version: string;
  /** What was last sent under the name (SotW resends it; delta needs none). */
  readonly resource: Any | undefined;
}

export interface Watch {
  readonly typeUrl: string;
  subscription: Subscription;
  /** Resources of this type may have changed since the last response. */
  dirty: boolean;
  /** The client asked for something (new subscription) and gets a response even if nothing changed. */
  mustRespond: boolean;
  /** performance.now() of the oldest published change not yet sent. */
  pendingSince: number | undefined;
  /** Nonce of the response waiting for its ACK/NACK. */
  awaiting: string | undefined;
  sentNonce: string | undefined;
  sentVersion: string | undefined;
  ackedNonce: string | undefined;
  ackedVersion: string | undefined;
  responses: number;
  nacks: number;
  lastError: string | undefined;
  /** SotW: content version of the last response. */
  sentContent: string | undefined;
  /** Delta: name -> version of what the client holds (or was last sent). */
  readonly known: Map<string, string>;
  /**
   * Delta, wildcard only: the full name -> version map `known` was last made equal to, so the next
   * response can be diffed by the names changed since. Cleared whenever the subscription changes.
   */
  knownFrom: ReadonlyMap<string, string> | undefined;
  /** Delta: names subscribed since the last response; each gets an answer (resource or removal). */
  readonly newlySubscribed: Set<string>;
  /** SotW: resources in the last response. */
  sentCount: number;
  /** SotW: what the last response was built from (without what it retained). */
  lastSent:
    | {
        readonly versions: ReadonlyMap<string, string>;
        readonly resources: ReadonlyMap<string, { readonly resource: Any }>;
      }
    | undefined;
  /**
   * Make-before-break: names gone from this type's resources whose removal waits until the types
   * that refer to them are caught up on this stream (see Connection.mayRemove).
   */
  retained: ReadonlyMap<string, RetainedResource>;
  /** The client's reply to the last response was a NACK (it kept older config). */
  lastNacked: boolean;
}

export function newWatch(typeUrl: string): Watch {
  return {
    typeUrl,
    subscription: NOTHING,
    dirty: false,
    mustRespond: false,
    pendingSince: undefined,
    awaiting: undefined,
    sentNonce: undefined,
    sentVersion: undefined,
    ackedNonce: undefined,
    ackedVersion: undefined,
    responses: 0,
    nacks: 0,
    lastError: undefined,
    sentContent: undefined,
    known: new Map(),
    knownFrom: undefined,
    newlySubscribed: new Set(),
    sentCount: 0,
    lastSent: undefined,
    retained: new Map(),
    lastNacked: false,
  };
}

/** Marks a published change; keeps the oldest change time for the convergence metric. */
export function markChanged(w: Watch, since: number): void {
  w.dirty = true;
  w.pendingSince = Math.min(w.pendingSince ?? since, since);
}

/** Whether the watch has something to send and may send it now (flow control: one unACKed response per type). */
export function readyToSend(w: Watch): boolean {
  return (w.dirty || w.mustRespond) && w.awaiting === undefined;
}

export function recordSent(w: Watch, nonce: string, version: string): void {
  w.awaiting = nonce;
  w.sentNonce = nonce;
  w.sentVersion = version;
  w.responses++;
}

export type AckOutcome = 'ack' | 'nack' | 'stale' | 'repeat';

/**
 * Applies a request's response_nonce and error_detail. Only the nonce of the last response counts;
 * an older one is stale (the client has not seen the newest response yet). Only the first reply
 * to a response is its ACK/NACK; later requests with the same nonce ('repeat') only change the
 * subscription.
 */
export function acknowledge(w: Watch, nonce: string, error: string | undefined): AckOutcome {
  if (nonce !== w.sentNonce) return 'stale';
  if (w.awaiting !== nonce) return 'repeat';
  w.awaiting = undefined;
  w.lastNacked = error !== undefined;
  if (error !== undefined) {
    w.nacks++;
    w.lastError = error;
    return 'nack';
  }
  w.ackedNonce = nonce;
  w.ackedVersion = w.sentVersion;
  return 'ack';
}

/**
 * Whether the client holds what this watch has to give: nothing waits to be sent or ACKed, its
 * last reply was no NACK, and it holds back no removal itself.
 */
export function caughtUp(w: Watch): boolean {
  return (
    !w.dirty && !w.mustRespond && w.awaiting === undefined && !w.lastNacked && w.retained.size === 0
  );
}

export function watchDebug(w: Watch, delta: boolean): TypeDebug {
  return {
    typeUrl: w.typeUrl,
    subscribed: subscriptionNames(w.subscription),
    sentVersion: w.sentVersion,
    sentNonce: w.sentNonce,
    ackedVersion: w.ackedVersion,
    ackedNonce: w.ackedNonce,
    awaitingAck: w.awaiting !== undefined,
    pending: w.dirty || w.mustRespond,
    resources: delta ? w.known.size : w.sentCount,
    responses: w.responses,
    nacks: w.nacks,
    lastError: w.lastError,
    retained: [...w.retained.keys()].sort(),
  };
}
