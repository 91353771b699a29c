// The Kubernetes source: one list+watch informer per kind (see kube-kinds.ts); after every kind has
// been listed once, each change (coalesced for a moment) yields a new ClusterSnapshot. I/O only.
//
// - A watch that fails is resumed with backoff from its last resourceVersion; an expired one
//   ("410 Gone") relists, and the relist reports deletions missed meanwhile.
// - A custom resource whose CRD is not installed (404) counts as empty: logged once, checked
//   again every `missingCrdRetryMs`, picked up when installed, emptied when uninstalled.
// - Other failures (apiserver down, RBAC) are logged and retried with backoff; the first snapshot
//   waits until every kind has been listed.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Meter } from '@opentelemetry/api';
import { backoff, type Logger } from '@trellis/core';
import type { ClusterSnapshot, RawClusterSnapshot } from '../model/kube.js';
import { admitSnapshot, type Rejection } from './convert/admit.js';
import { kubeErrorMessage as messageOf, kubeStatusOf as statusOf } from './kube-errors.js';
import { kubeKinds, type KubeKind } from './kube-kinds.js';

export interface WatchClusterOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** For pilot_k8s_reg_events / pilot_k8s_cfg_events. */
  readonly meter?: Meter;
  /**
   * Called with each new snapshot, the first once every kind has been listed, and the objects left
   * out of it because they do not have the shape the control plane reads.
   */
  onSnapshot(snapshot: ClusterSnapshot, rejected: readonly Rejection[]): void;
  /** Changes arriving within this long become one snapshot. Default 20 ms. */
  readonly coalesceMs?: number;
  /** How often a missing CRD is looked for again. Default 30 s. */
  readonly missingCrdRetryMs?: number;
  /** Retry delays after a failed list or watch. Default 500 ms growing to 30 s. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface ClusterWatch {
  /** Resolves when the first snapshot has been delivered. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface KindWatch {
  readonly kind: KubeKind;
  informer: ListWatch<KubernetesObject>;
  listed: boolean;
  missing: boolean;
  starting: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}

export function watchCluster(o: WatchClusterOptions): ClusterWatch {
  const coalesceMs = o.coalesceMs ?? 20;
  const missingRetryMs = o.missingCrdRetryMs ?? 30_000;
  const events = {
    reg: o.meter?.createCounter('pilot_k8s_reg_events', {
      description: 'Kubernetes registry events (Pods, Services, ...), by type and event.',
    }),
    cfg: o.meter?.createCounter('pilot_k8s_cfg_events', {
      description: 'Kubernetes config events (policies, Gateway API), by type and event.',
    }),
  };
  let closed = false;
  let delivered = false;
  let buildTimer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const build = () => {
    buildTimer = undefined;
    if (closed || !watches.every((w) => w.listed || w.missing)) return;
    const raw = Object.fromEntries(
      watches.map((w) => [w.kind.field, w.missing ? [] : w.informer.list()]),
    ) as unknown as RawClusterSnapshot;
    const { snapshot, rejected } = admitSnapshot(raw);
    logRejections(rejected);
    if (!delivered)
      o.logger.info(
        {
          counts: Object.fromEntries(
            watches.map((w) => [
              w.kind.type,
              w.missing ? 'not installed' : w.informer.list().length,
            ]),
          ),
        },
        'cluster state synced',
      );
    delivered = true;
    o.onSnapshot(snapshot, rejected);
    resolveReady();
  };
  const schedule = () => {
    if (!closed && buildTimer === undefined) buildTimer = setTimeout(build, coalesceMs);
  };
  // Each rejection is logged once, when it first appears.
  let logged = new Set<string>();
  const logRejections = (rejected: readonly Rejection[]) => {
    const now = new Set<string>();
    for (const r of rejected) {
      const key = `${r.kind}\0${r.object}\0${r.message}`;
      now.add(key);
      if (!logged.has(key))
        o.logger.error(
          { kind: r.kind, object: r.object },
          `${r.kind} ${r.object} rejected: ${r.message}; it is left out until it is fixed, everything else is served`,
        );
    }
    logged = now;
  };

  const watches: KindWatch[] = kubeKinds(o.kubeConfig).map((kind) => {
    const retry = backoff({
      initialMs: o.retry?.initialMs ?? 500,
      maxMs: o.retry?.maxMs ?? 30_000,
    });
    const log = o.logger.child({ kind: kind.type });
    const w = {
      kind,
      listed: false,
      missing: false,
      starting: undefined,
      timer: undefined,
    } as KindWatch;
    // ListWatch rather than makeInformer: the latter cannot pass a field selector.
    const informer = new ListWatch<KubernetesObject>(
      kind.path,
      new Watch(o.kubeConfig),
      async () => {
        const list = await kind.list();
        if (w.missing) log.info('CRD installed; watching it now');
        w.listed = true;
        w.missing = false;
        retry.reset();
        schedule(); // runs after the informer has stored the listed items
        return list;
      },
      false,
      undefined,
      kind.fieldSelector,
    );
    w.informer = informer;
    for (const event of ['add', 'update', 'delete'] as const) {
      informer.on(event, () => {
        events[kind.metric]?.add(1, { type: kind.type, event });
        schedule();
      });
    }
    informer.on('error', (err: unknown) => {
      if (closed) return;
      const code = statusOf(err);
      let delay: number;
      if (kind.crd && code === 404) {
        if (!w.missing) {
          log.warn(
            { retryMs: missingRetryMs },
            `CRD ${kind.crd.plural}.${kind.crd.group} (${kind.crd.version}) is not installed; treating ${kind.type} as absent and checking again periodically`,
          );
        }
        w.missing = true;
        w.listed = false;
        delay = missingRetryMs;
        schedule();
      } else {
        delay = retry.next();
        log.warn(
          { err: messageOf(err), status: code, retryMs: delay },
          `${kind.type} list/watch failed; retrying`,
        );
      }
      w.timer = setTimeout(() => start(w), delay);
    });
    return w;
  });

  const start = (w: KindWatch) => {
    w.timer = undefined;
    if (closed) return;
    w.starting = w.informer.start().catch((err: unknown) => {
      o.logger.warn({ kind: w.kind.type, err: messageOf(err) }, 'starting the watch failed');
    });
  };
  for (const w of watches) start(w);

  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(buildTimer);
      for (const w of watches) clearTimeout(w.timer);
      // A start in flight would open its watch after stop(); let it finish, then stop again.
      await Promise.all(watches.map((w) => w.starting));
      await Promise.all(watches.map((w) => w.informer.stop()));
    },
  };
}
