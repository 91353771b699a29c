// The agent's controller: for every pod on the node, makes "redirected" match "should be
// redirected". Redirecting a pod hands its netns to ztunnel (which opens its listeners there),
// then installs the in-pod rules, the host probe address and the marker the plugin reads, then
// annotates the pod; undoing it goes the other way. Work for one pod is serialized; at most
// `concurrency` pods are worked on at once. Every step compares before it changes, so reconciling
// a pod that is already right (after an agent restart) changes nothing.
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';
import {
  dnsCaptureEnabled,
  podEnrollment,
  REDIRECTION_ANNOTATION,
  type EnrollmentPolicy,
} from '../enrollment.pure.js';
import type { PodEvent } from '../plugin-events.pure.js';
import type { IpFamily } from '../rules/index.js';
import type { HostProbes } from './host-probes.js';
import { applyPodRules, podRulesDrift, removePodRules, type RulesMode } from './inpod-rules.js';
import type { AgentMetrics } from './metrics.js';
import type { NetnsFinder } from './netns-finder.js';
import { agentNetnsPath } from './netns-path.pure.js';
import type { ZdsServer, ZdsWorkload } from './zds-server.js';

export interface RedirectorOptions {
  zds: Pick<ZdsServer, 'connected' | 'add' | 'del'>;
  finder: NetnsFinder;
  mode: RulesMode;
  probes: HostProbes;
  policy: EnrollmentPolicy;
  dnsCapture: boolean;
  ipv6: boolean;
  /** Directory of the per-pod marker files the plugin checks on DEL. */
  markerDir: string;
  /** Sets (value) or removes (null) the redirection annotation. */
  annotate(namespace: string, name: string, value: string | null): Promise<void>;
  /** The pod as the API has it now (CNI events can come before the watch has the pod). */
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  namespaceLabels(name: string): Record<string, string> | undefined;
  concurrency: number;
  logger: Logger;
  metrics?: AgentMetrics;
  /** The node's /proc as mounted in the agent (CNI_NETNS may be /proc/<pid>/ns/net). */
  hostProc: string;
  /** The node's netns pin directory as mounted in the agent (CNI_NETNS may be
   * /var/run/netns/cni-<id>, a path of the node, not of the agent's container). */
  mountedNetnsDir?: string;
  /** Path by which a child process (nsenter) opens one of our fds. */
  fdPath?(fd: number): string;
}

interface Tracked {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  ips: string[];
  netnsFd: number;
  netnsId: string;
  families: IpFamily[];
  dnsCapture: boolean;
}

/** An error with the HTTP status the plugin server should answer. */
export class RedirectError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const key = (p: V1Pod) => p.metadata?.uid ?? '';
const podName = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

function podIps(p: V1Pod): string[] {
  const list = (p.status?.podIPs ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
  if (list.length) return list;
  return p.status?.podIP ? [p.status.podIP] : [];
}

export class Redirector {
  readonly #o: RedirectorOptions;
  readonly #pods = new Map<string, V1Pod>();
  readonly #tracked = new Map<string, Tracked>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #dirty = new Set<string>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(opts: RedirectorOptions) {
    this.#o = opts;
    mkdirSync(opts.markerDir, { recursive: true });
  }

  get enrolledCount(): number {
    return this.#tracked.size;
  }

  /** uids of the redirected pods. */
  get enrolled(): string[] {
    return [...this.#tracked.keys()];
  }

  /** What a new ztunnel connection gets: every redirected pod with its netns. */
  snapshot(): ZdsWorkload[] {
    return [...this.#tracked.values()].map((t) => ({
      uid: t.uid,
      name: t.name,
      namespace: t.namespace,
      serviceAccount: t.serviceAccount,
      netnsFd: t.netnsFd,
    }));
  }

  /**
   * Start-up, before ZDS listens: takes over the pods that are already redirected as they should be
   * (the agent restarted), so the first ztunnel snapshot names them and nothing about them changes.
   * Pods whose rules differ are left to the normal reconcile.
   */
  async adoptRunning(pods: readonly V1Pod[]): Promise<number> {
    for (const p of pods) if (key(p)) this.#pods.set(key(p), p);
    const work = [...this.#pods.values()].map((pod) =>
      this.#slot(async () => {
        const ips = podIps(pod);
        if (!this.#want(pod).want || ips.length === 0 || this.#tracked.has(key(pod))) return;
        const found = await this.#o.finder.find(ips);
        if (!found) return;
        const rules = this.#rulesFor(ips, pod.metadata?.annotations);
        const drift = await podRulesDrift(this.#fdPath(found.fd), this.#o.mode, rules).catch(
          (err: Error) => [err.message],
        );
        if (drift.length) {
          closeSync(found.fd);
          return;
        }
        const m = pod.metadata!;
        this.#tracked.set(m.uid!, {
          uid: m.uid!,
          name: m.name!,
          namespace: m.namespace!,
          serviceAccount: pod.spec?.serviceAccountName || 'default',
          ips,
          netnsFd: found.fd,
          netnsId: netnsId(found.fd),
          ...rules,
        });
        writeFileSync(`${this.#o.markerDir}/${m.uid}`, '');
      }),
    );
    await Promise.all(work);
    return this.#tracked.size;
  }

  /** A pod changed (or was deleted) in the watch. */
  podChanged(pod: V1Pod, deleted: boolean): void {
    const uid = key(pod);
    if (!uid) return;
    if (deleted) this.#pods.delete(uid);
    else this.#pods.set(uid, pod);
    this.enqueue(uid);
  }

  /** A namespace's labels changed: its pods are looked at again. */
  namespaceChanged(name: string): void {
    for (const [uid, p] of this.#pods) if (p.metadata?.namespace === name) this.enqueue(uid);
  }

  enqueueAll(): void {
    for (const uid of new Set([...this.#pods.keys(), ...this.#tracked.keys()])) this.enqueue(uid);
  }

  /** Resolves when nothing is queued or running (tests, start-up). */
  async idle(): Promise<void> {
    while (this.#locks.size > 0) await Promise.all([...this.#locks.values()]);
  }

  enqueue(uid: string): void {
    if (this.#closed) return;
    clearTimeout(this.#retries.get(uid));
    this.#retries.delete(uid);
    this.#dirty.add(uid);
    if (this.#locks.has(uid)) return;
    const run = (async () => {
      while (this.#dirty.has(uid) && !this.#closed) {
        this.#dirty.delete(uid);
        await this.#slot(() => this.#reconcile(uid));
      }
    })().finally(() => this.#locks.delete(uid));
    this.#locks.set(uid, run);
  }

  async #slot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#running >= this.#o.concurrency)
      await new Promise<void>((r) => this.#waiting.push(r));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  /** Runs `fn` once any queued work on the pod is done, and keeps others off it meanwhile. */
  async #exclusive<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      const busy = this.#locks.get(uid);
      if (!busy) break;
      await busy;
    }
    let result!: Promise<T>;
    const run = (async () => {
      result = this.#slot(fn);
      await result.catch(() => undefined);
    })().finally(() => {
      this.#locks.delete(uid);
      if (this.#dirty.has(uid)) {
        this.#dirty.delete(uid);
        this.enqueue(uid);
      }
    });
    this.#locks.set(uid, run);
    await run;
    return result;
  }

  #want(pod: V1Pod | undefined): { want: boolean; why: string } {
    if (!pod) return { want: false, why: 'pod deleted' };
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return { want: false, why: `pod ${phase}` };
    const v = podEnrollment(
      {
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        labels: pod.metadata?.labels,
        annotations: pod.metadata?.annotations,
        hostNetwork: pod.spec?.hostNetwork,
      },
      this.#o.namespaceLabels(pod.metadata?.namespace ?? ''),
      this.#o.policy,
    );
    return v.enrolled ? { want: true, why: `${v.by} label` } : { want: false, why: v.why };
  }

  #rulesFor(ips: readonly string[], annotations: Record<string, string> | undefined) {
    const families: IpFamily[] = [];
    if (ips.some((ip) => !ip.includes(':'))) families.push(4);
    if (this.#o.ipv6 && ips.some((ip) => ip.includes(':'))) families.push(6);
    if (families.length === 0) families.push(4);
    return { families, dnsCapture: dnsCaptureEnabled(annotations, this.#o.dnsCapture) };
  }

  #fdPath(fd: number): string {
    return this.#o.fdPath?.(fd) ?? `/proc/${process.pid}/fd/${fd}`;
  }

  async #reconcile(uid: string): Promise<void> {
    const pod = this.#pods.get(uid);
    const tracked = this.#tracked.get(uid);
    const { want, why } = this.#want(pod);
    this.#o.metrics?.reconcileEvents.add(1, { type: want ? 'enroll' : 'unenroll' });
    try {
      if (want && pod) {
        if (tracked) await this.#refresh(tracked, pod);
        else await this.#enrollRunning(pod);
      } else if (tracked) {
        await this.#unenroll(tracked, pod, why);
      } else if (pod && pod.metadata?.annotations?.[REDIRECTION_ANNOTATION]) {
        await this.#unenrollStale(pod, why);
      }
    } catch (err) {
      const name = pod ? podName(pod) : uid;
      this.#o.metrics?.ruleFailures.add(1, { operation: want ? 'enroll' : 'unenroll' });
      this.#o.logger.warn(
        { pod: name, err: (err as Error).message },
        'reconcile failed; retrying in 2s',
      );
      this.#retry(uid, 2000);
    }
  }

  #retry(uid: string, ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#retries.get(uid));
    this.#retries.set(
      uid,
      setTimeout(() => {
        this.#retries.delete(uid);
        this.enqueue(uid);
      }, ms).unref(),
    );
  }

  /** A running pod that should be redirected and is not (labelled, or the agent restarted). */
  async #enrollRunning(pod: V1Pod): Promise<void> {
    const ips = podIps(pod);
    if (ips.length === 0) return; // not started: CNI ADD will come, or the IP update
    if (!this.#o.zds.connected) {
      this.#o.logger.info(
        { pod: podName(pod) },
        'no ztunnel connected; the pod is redirected once one is',
      );
      return;
    }
    const found = await this.#o.finder.find(ips);
    if (!found) throw new Error(`no network namespace on this node holds ${ips.join(', ')}`);
    await this.#enroll(pod, found.fd, ips);
  }

  async #enroll(pod: V1Pod, netnsFd: number, ips: string[]): Promise<void> {
    const m = pod.metadata!;
    const t: Tracked = {
      uid: m.uid!,
      name: m.name!,
      namespace: m.namespace!,
      serviceAccount: pod.spec?.serviceAccountName || 'default',
      ips,
      netnsFd,
      netnsId: netnsId(netnsFd),
      ...this.#rulesFor(ips, m.annotations),
    };
    const started = performance.now();
    try {
      await this.#o.zds.add(t);
    } catch (err) {
      closeSync(netnsFd);
      throw err;
    }
    try {
      await applyPodRules(this.#fdPath(netnsFd), this.#o.mode, t);
      await this.#o.probes.add(ips, t.uid);
    } catch (err) {
      await this.#o.zds.del(t.uid).catch(() => undefined);
      await removePodRules(this.#fdPath(netnsFd), this.#o.mode).catch(() => undefined);
      closeSync(netnsFd);
      throw err;
    }
    this.#tracked.set(t.uid, t);
    writeFileSync(`${this.#o.markerDir}/${t.uid}`, '');
    this.#o.logger.info(
      {
        pod: `${t.namespace}/${t.name}`,
        ips,
        dnsCapture: t.dnsCapture,
        ms: Math.round(performance.now() - started),
      },
      'pod redirected',
    );
    if (m.annotations?.[REDIRECTION_ANNOTATION] !== 'enabled')
      await this.#o.annotate(t.namespace, t.name, 'enabled');
  }

  /** Keeps a redirected pod right: rules (DNS capture may have changed), probe addresses, annotation. */
  async #refresh(t: Tracked, pod: V1Pod): Promise<void> {
    const ips = podIps(pod);
    const rules = this.#rulesFor(ips.length ? ips : t.ips, pod.metadata?.annotations);
    if (rules.dnsCapture !== t.dnsCapture || rules.families.join() !== t.families.join()) {
      await applyPodRules(this.#fdPath(t.netnsFd), this.#o.mode, rules);
      Object.assign(t, rules);
    }
    if (ips.length && ips.join() !== t.ips.join()) {
      await this.#o.probes.remove(t.ips.filter((ip) => !ips.includes(ip)));
      await this.#o.probes.add(ips, t.uid);
      t.ips = ips;
    }
    if (pod.metadata?.annotations?.[REDIRECTION_ANNOTATION] !== 'enabled')
      await this.#o.annotate(t.namespace, t.name, 'enabled');
  }

  async #unenroll(
    t: Tracked,
    pod: V1Pod | undefined,
    why: string,
    removeRules = true,
  ): Promise<void> {
    if (pod?.metadata?.annotations?.[REDIRECTION_ANNOTATION])
      await this.#o.annotate(t.namespace, t.name, null);
    if (removeRules)
      await removePodRules(this.#fdPath(t.netnsFd), this.#o.mode).catch((err: Error) => {
        this.#o.logger.debug(
          { pod: `${t.namespace}/${t.name}`, err: err.message },
          'rules not removed (netns gone?)',
        );
      });
    await this.#o.zds
      .del(t.uid)
      .catch((err: Error) =>
        this.#o.logger.warn(
          { pod: `${t.namespace}/${t.name}`, err: err.message },
          'ztunnel did not take the del',
        ),
      );
    await this.#o.probes.remove(t.ips);
    this.#forget(t);
    this.#o.logger.info({ pod: `${t.namespace}/${t.name}`, why }, 'pod no longer redirected');
  }

  #forget(t: Tracked): void {
    this.#tracked.delete(t.uid);
    rmSync(`${this.#o.markerDir}/${t.uid}`, { force: true });
    closeSync(t.netnsFd);
  }

  /** Annotated but not tracked (the agent restarted, or an uninstall): undo what may be there. */
  async #unenrollStale(pod: V1Pod, why: string): Promise<void> {
    const ips = podIps(pod);
    const found = ips.length ? await this.#o.finder.find(ips) : undefined;
    if (found) {
      try {
        await removePodRules(this.#fdPath(found.fd), this.#o.mode);
      } finally {
        closeSync(found.fd);
      }
    }
    await this.#o.zds.del(key(pod)).catch(() => undefined);
    await this.#o.probes.remove(ips);
    rmSync(`${this.#o.markerDir}/${key(pod)}`, { force: true });
    await this.#o.annotate(pod.metadata!.namespace!, pod.metadata!.name!, null);
    this.#o.logger.info({ pod: podName(pod), why }, 'pod no longer redirected');
  }

  async #podFor(ev: PodEvent): Promise<V1Pod | undefined> {
    for (let i = 0; i < 10; i++) {
      const p = [...this.#pods.values()].find(
        (x) => x.metadata?.namespace === ev.podNamespace && x.metadata?.name === ev.podName,
      );
      if (p && (!ev.podUid || p.metadata?.uid === ev.podUid)) return p;
      await new Promise((r) => setTimeout(r, 20));
    }
    const p = await this.#o.readPod(ev.podNamespace, ev.podName);
    if (p && ev.podUid && p.metadata?.uid !== ev.podUid) return undefined;
    if (p) this.#pods.set(key(p), p);
    return p;
  }

  /** CNI ADD of an enrolled pod: redirect it now (the plugin waits for the answer). */
  async cniAdd(ev: PodEvent): Promise<void> {
    const pod = await this.#podFor(ev);
    if (!pod)
      throw new RedirectError(
        404,
        `pod ${ev.podNamespace}/${ev.podName} (uid ${ev.podUid}) is not known to the API`,
      );
    const { want, why } = this.#want(pod);
    if (!want) {
      this.#o.logger.info(
        { pod: podName(pod), why },
        'CNI ADD for a pod that is not enrolled; nothing to do',
      );
      return;
    }
    if (!this.#o.zds.connected)
      throw new RedirectError(
        503,
        `no ztunnel is connected to the agent yet; the pod cannot be redirected until one is`,
      );
    let fd: number;
    try {
      fd = openSync(this.#hostPath(ev.netns), 'r');
    } catch (err) {
      throw new RedirectError(
        400,
        `cannot open the pod's netns ${ev.netns}: ${(err as Error).message}`,
      );
    }
    await this.#exclusive(key(pod), async () => {
      const t = this.#tracked.get(key(pod));
      if (t && t.netnsId === netnsId(fd)) {
        closeSync(fd);
        return;
      }
      if (t) await this.#unenroll(t, undefined, 'new sandbox', false);
      try {
        await this.#enroll(pod, fd, ev.ips.length ? ev.ips : podIps(pod));
      } catch (err) {
        this.#o.metrics?.ruleFailures.add(1, { operation: 'cni-add' });
        throw new RedirectError(500, (err as Error).message);
      }
    });
  }

  /** CNI DEL: the sandbox goes away; ztunnel lets go of its netns. */
  async cniDel(ev: PodEvent): Promise<void> {
    const t = [...this.#tracked.values()].find((x) => x.uid === ev.podUid);
    if (!t) return;
    await this.#exclusive(t.uid, async () => {
      const cur = this.#tracked.get(t.uid);
      if (cur) await this.#unenroll(cur, undefined, 'CNI DEL');
    });
  }

  /** CNI CHECK: throws with every difference from the wanted state. */
  async cniCheck(ev: PodEvent): Promise<void> {
    const t = this.#tracked.get(ev.podUid);
    if (!t)
      throw new RedirectError(
        409,
        `the agent has not redirected pod ${ev.podNamespace}/${ev.podName}`,
      );
    const problems = await podRulesDrift(this.#fdPath(t.netnsFd), this.#o.mode, t);
    if (!this.#o.zds.connected) problems.push('no ztunnel is connected');
    if (problems.length) throw new RedirectError(409, problems.join('; '));
  }

  /** Uninstall: undo every pod's redirection (and stale annotations), then stop. */
  async unenrollAll(): Promise<void> {
    // Closed for good first: a watch event during the uninstall (our own annotation removal is
    // one) must not reconcile the pod back into the mesh.
    this.#closed = true;
    for (const t of this.#retries.values()) clearTimeout(t);
    await Promise.all([...this.#locks.values()]);
    const work: Promise<void>[] = [];
    for (const t of [...this.#tracked.values()])
      work.push(this.#slot(() => this.#unenroll(t, this.#pods.get(t.uid), 'uninstall')));
    for (const pod of this.#pods.values())
      if (!this.#tracked.has(key(pod)) && pod.metadata?.annotations?.[REDIRECTION_ANNOTATION])
        work.push(this.#slot(() => this.#unenrollStale(pod, 'uninstall')));
    const results = await Promise.allSettled(work);
    for (const r of results)
      if (r.status === 'rejected')
        this.#o.logger.warn({ err: String(r.reason) }, 'uninstall: a pod was not cleaned up');
    for (const f of safeList(this.#o.markerDir))
      rmSync(`${this.#o.markerDir}/${f}`, { force: true });
    this.#closed = true;
  }

  /** Stops work; redirected pods stay as they are (their fds are closed, the rules stay). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#retries.values()) clearTimeout(t);
    await Promise.all([...this.#locks.values()]);
    for (const t of this.#tracked.values()) closeSync(t.netnsFd);
    this.#tracked.clear();
  }

  #hostPath(netns: string): string {
    return agentNetnsPath(netns, {
      hostProc: this.#o.hostProc,
      mountedNetnsDir: this.#o.mountedNetnsDir,
      exists: existsSync,
    });
  }
}

function netnsId(fd: number): string {
  const st = fstatSync(fd);
  return `${st.dev}:${st.ino}`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
