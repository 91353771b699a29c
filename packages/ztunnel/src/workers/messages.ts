// The IPC protocol between the primary and its workers (JSON over the child_process channel; a
// `conn` message carries the accepted socket as its handle).
import type { LevelsSnapshot } from '@trellis/core';
import type { ListenerKind, PodProxySpec } from '../proxy/proxy-handlers.js';
import type { StateUpdate } from '../state/store.js';

/** Key of the all-workloads listener set (in-pod sets are keyed by pod uid). */
export const ALL_WORKLOADS_SET = 'all-workloads';

/** A certificate as it crosses the channel (dates as ISO strings). */
export interface CertificateMessage {
  readonly identity: string;
  readonly key: string;
  readonly chain: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
}

export type ToWorker =
  | { readonly kind: 'init'; readonly index: number; readonly primaryPid: number }
  | { readonly kind: 'state'; readonly update: StateUpdate }
  /** A listener set opened in the primary; `pod` with the primary's netns fd, absent for all-workloads. */
  | {
      readonly kind: 'set-start';
      readonly key: string;
      readonly pod?: PodProxySpec;
      readonly netnsFd?: number;
    }
  | { readonly kind: 'set-stop'; readonly key: string; readonly drainMs: number }
  /** Sent with the accepted socket as handle. */
  | { readonly kind: 'conn'; readonly key: string; readonly listener: ListenerKind }
  | {
      readonly kind: 'cert';
      readonly id: number;
      readonly cert?: CertificateMessage;
      readonly error?: string;
    }
  | { readonly kind: 'forget'; readonly identity: string }
  | { readonly kind: 'log-levels'; readonly levels: LevelsSnapshot }
  /** A scrape of 15020 wants this worker's current metrics. */
  | { readonly kind: 'scrape'; readonly id: number }
  /** Everything sent at start-up has been sent: answer `ready`. */
  | { readonly kind: 'sync' }
  | { readonly kind: 'exit' };

export type FromWorker =
  | { readonly kind: 'hello' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'cert-request'; readonly id: number; readonly identity: string }
  /** Its metrics in the Prometheus text format: the answer to scrape `id`, or pushed every second. */
  | { readonly kind: 'metrics'; readonly id?: number; readonly text: string }
  | { readonly kind: 'set-stopped'; readonly key: string };
