// Runs one pod on the emulated node: sandbox netns through the CNI chain, volumes, init containers,
// containers as processes with restarts and probes, status reports, graceful termination.
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, openSync, closeSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../exec.js';
import { descendants, processStartTime } from '../processes.js';
import { cniAdd, cniDel } from '../cni.js';
import { ensureHostMountpoint } from '../host-mountpoints.js';
import { podIPFromResult, type CniResult } from '../cni.pure.js';
import { podNetnsName } from '../layout.pure.js';
import { containerEnv, podHostname, type PodFacts } from '../env.pure.js';
import { imageEnv, imageFiles, lookupImage, resolveArgv } from '../images.pure.js';
import { builtGoTool } from '../paths.js';
import { launchArgv } from '../container-launch.pure.js';
import { containerMounts, decodeSecretData } from '../volumes.pure.js';
import { PodVolumes } from '../volumes.js';
import { launchPropagation } from './mount-plan.js';
import { dnsProblem, podResolvConf, renderResolvConf } from '../resolv-conf.pure.js';
import { runProbe } from '../probes.js';
import {
  renderPodStatus,
  restartBackoffMs,
  shouldRestart,
  terminalPhase,
  type ContainerState,
  type PodView,
} from '../pod-status.pure.js';
import type { Container, ContainerStatus, Pod, PodStatus, Probe } from '../pod-spec.js';
import type { NodeContext } from './context.js';
import type { ContainerHandle, Lookup, PodHandle } from './kubelet-server.js';
import { attachToContainer, execInContainer } from './container-exec.js';
import { connectInNetns } from '@trellis/netsys';
import { connect as netConnect, type Socket } from 'node:net';

interface RunningContainer {
  spec: Container;
  state: ContainerState;
  /** The container process; `exited` resolves with its exit code, undefined when unknowable. */
  proc?: ContainerProcess;
  probeTimers: NodeJS.Timeout[];
  livenessFailures: number;
  readinessFailures: number;
}

interface ContainerProcess {
  pid: number;
  exited: Promise<number | undefined>;
}

/** What a worker writes to <podDir>/state.json so a restarted emulator can adopt the pod. */
export interface SavedPod {
  uid: string;
  podIP?: string;
  startTime: string;
  containers: Array<{
    name: string;
    pid?: number;
    /** /proc start time of pid, so a reused pid is not mistaken for the container. */
    pidStart?: string;
    startedAt?: string;
    restartCount: number;
    lastTermination?: ContainerState['lastTermination'];
  }>;
}

export class PodWorker {
  private pod: Pod;
  private readonly uid: string;
  private readonly podDir: string;
  private readonly netns: string;
  private view: PodView;
  private containers: RunningContainer[] = [];
  private volumes: PodVolumes | undefined;
  private stopping = false;
  private statusDirty = false;
  private statusLoop: Promise<void> | undefined;
  private lastStatus: PodStatus | undefined;

  constructor(
    private readonly ctx: NodeContext,
    pod: Pod,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid;
    this.podDir = `${ctx.nodeDir}/pods/${pod.metadata.namespace}_${pod.metadata.name}_${this.uid}`;
    this.netns = podNetnsName(ctx.clusterName, this.uid);
    this.view = {
      hostIP: ctx.nodeIP,
      startTime: new Date().toISOString(),
      initialized: false,
      phase: 'Pending',
      containers: pod.spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        running: false,
        ready: false,
        restartCount: 0,
      })),
    };
    this.lastStatus = pod.status;
  }

  /** The log file of a container (the previous run's with `previous`). */
  logFile(
    container: string,
    previous: boolean,
  ): { file: string } | { error: string; status: number } {
    const state = this.view.containers.find((c) => c.name === container);
    const isInit = (this.pod.spec.initContainers ?? []).some((c) => c.name === container);
    if (!state && !isInit)
      return {
        error: `container ${container} is not valid for pod ${this.pod.metadata.name}`,
        status: 400,
      };
    const run = isInit ? 0 : state!.restartCount - (previous ? 1 : 0);
    if (run < 0)
      return {
        error: `previous terminated container "${container}" in pod "${this.pod.metadata.name}" not found`,
        status: 400,
      };
    return { file: `${this.podDir}/logs/${container}/${run}.log` };
  }

  matches(namespace: string, name: string, uid?: string): boolean {
    const m = this.pod.metadata;
    return m.namespace === namespace && m.name === name && (uid === undefined || m.uid === uid);
  }

  get hostNetwork(): boolean {
    return Boolean(this.pod.spec.hostNetwork);
  }

  update(pod: Pod): void {
    this.pod = pod;
    if (pod.metadata.deletionTimestamp && !this.stopping)
      void this.terminate((pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000, true);
  }

  async start(): Promise<void> {
    try {
      await mkdir(this.podDir, { recursive: true });
      if (this.hostNetwork) {
        this.view.podIP = this.ctx.nodeIP;
      } else {
        this.view.podIP = await this.createSandbox();
        if (this.stopping) return;
      }
      this.markDirty();
      this.volumes = this.podVolumes();
      // Like the kubelet, retry volume setup: the kube-root-ca.crt ConfigMap or the Node authorizer's
      // pod graph may not be there yet when a pod is first bound.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.volumes.prepare();
          break;
        } catch (e) {
          if (this.stopping || attempt >= 60) throw e;
          this.view.message = `volume setup: ${(e as Error).message}`;
          await sleep(1000);
        }
      }
      this.view.message = undefined;
      await this.writeResolvConf();
      for (const init of this.pod.spec.initContainers ?? []) {
        if (this.stopping) return;
        const code = await this.runToCompletion(init);
        if (code !== 0) {
          this.view.phase = 'Failed';
          this.view.message = `init container ${init.name} exited with ${code}`;
          this.markDirty();
          return;
        }
      }
      this.view.initialized = true;
      this.view.phase = 'Running';
      this.containers = this.runningContainers();
      for (const c of this.containers) void this.superviseContainer(c);
      this.markDirty();
    } catch (e) {
      const msg = (e as Error).message;
      console.error(`pod ${this.key()}: ${msg}`);
      this.view.message = msg;
      for (const c of this.view.containers) c.waitingReason = 'CreateContainerError';
      this.markDirty();
    }
  }

  /**
   * Creates the pod netns and runs CNI ADD, retrying with back-off like a runtime does (a chained
   * plugin may refuse pods until its node agent is up). A failed attempt is undone with CNI DEL.
   */
  private async createSandbox(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        await run('ip', ['netns', 'add', this.netns]);
        await run('ip', ['netns', 'exec', this.netns, 'ip', 'link', 'set', 'lo', 'up']);
        const result = (await cniAdd(this.ctx.cni, this.cniRef())) as CniResult | undefined;
        const ip = podIPFromResult(result ?? {}, 'eth0');
        if (!ip) throw new Error(`CNI ADD returned no IPv4 address: ${JSON.stringify(result)}`);
        this.view.message = undefined;
        return ip;
      } catch (e) {
        this.view.message = `sandbox: ${(e as Error).message}`;
        for (const c of this.view.containers) c.waitingReason = 'ContainerCreating';
        console.error(`pod ${this.key()}: ${this.view.message}`);
        this.markDirty();
        await cniDel(this.ctx.cni, this.cniRef()).catch(() => undefined);
        await run('ip', ['netns', 'delete', this.netns], { allowFailure: true });
        if (this.stopping) return '';
        await sleep(restartBackoffMs(Math.min(attempt, 5)));
      }
    }
  }

  private key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  private cniRef() {
    return {
      containerID: this.uid,
      netnsPath: `/run/netns/${this.netns}`,
      ifName: 'eth0',
      podName: this.pod.metadata.name,
      podNamespace: this.pod.metadata.namespace,
      podUID: this.uid,
    };
  }

  private facts(): PodFacts {
    const m = this.pod.metadata;
    return {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      podIP: this.view.podIP ?? '',
      hostIP: this.ctx.nodeIP,
      nodeName: this.ctx.nodeName,
      serviceAccountName: this.pod.spec.serviceAccountName ?? 'default',
      hostname: this.pod.spec.hostname,
      labels: m.labels ?? {},
      annotations: m.annotations ?? {},
    };
  }

  private async lookupData(): Promise<
    (kind: 'ConfigMap' | 'Secret', name: string) => Record<string, string> | undefined
  > {
    const ns = this.pod.metadata.namespace;
    const refs = new Set<string>();
    for (const c of [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers]) {
      for (const f of c.envFrom ?? [])
        if (f.configMapRef) refs.add(`ConfigMap/${f.configMapRef.name}`);
        else if (f.secretRef) refs.add(`Secret/${f.secretRef.name}`);
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef) refs.add(`ConfigMap/${e.valueFrom.configMapKeyRef.name}`);
        if (e.valueFrom?.secretKeyRef) refs.add(`Secret/${e.valueFrom.secretKeyRef.name}`);
      }
    }
    const data = new Map<string, Record<string, string>>();
    for (const ref of refs) {
      const [kind, name] = ref.split('/') as [string, string];
      const obj = await this.ctx.client.getOrUndefined(
        `/api/v1/namespaces/${ns}/${kind === 'ConfigMap' ? 'configmaps' : 'secrets'}/${name}`,
      );
      if (!obj) continue;
      data.set(
        ref,
        kind === 'ConfigMap'
          ? (obj.data ?? {})
          : Object.fromEntries(
              Object.entries(decodeSecretData(obj.data)).map(([k, v]) => [k, v.toString('utf8')]),
            ),
      );
    }
    return (kind, name) => data.get(`${kind}/${name}`);
  }

  /** Starts a container process; `exited` is attached at once so a fast exit is never missed. */
  private async spawnContainer(spec: Container, restart: number): Promise<ContainerProcess> {
    const entry = lookupImage(this.ctx.images, spec.image);
    if (!entry && !spec.command?.length)
      throw new Error(
        `image ${spec.image} is not in the image map (${this.ctx.imageMapFile}) and the container sets no command`,
      );
    const placeholders = { repo: this.ctx.repoRoot, node: process.execPath, tool: builtGoTool };
    const facts = this.facts();
    const env = containerEnv(
      spec,
      facts,
      await this.lookupData(),
      { host: this.ctx.kubernetesServiceIP, port: 443 },
      imageEnv(entry, placeholders),
    );
    const argv = resolveArgv(entry ?? { command: [] }, spec.command, spec.args, placeholders, env);
    const mounts = [
      { source: `${this.podDir}/resolv.conf`, target: '/etc/resolv.conf', readOnly: false },
      ...imageFiles(entry, placeholders),
      ...containerMounts(spec, this.volumes!.dirs),
    ];
    for (const m of mounts)
      await ensureHostMountpoint(
        m.target,
        existsSync(m.source) && !(await isDir(m.source)),
        this.ctx.hostMountpointsFile,
      );
    const propagation = await launchPropagation(mounts);
    for (const w of propagation.warnings) console.warn(`pod ${this.key()}: ${w}`);
    const stdinFifo = spec.stdin ? await this.stdinFifo(spec.name) : undefined;
    const launch = launchArgv({
      netnsPath: this.hostNetwork ? undefined : `/run/netns/${this.netns}`,
      // hostNetwork pods share the node's UTS namespace, as on a real node.
      hostname: this.hostNetwork ? undefined : podHostname(facts),
      mounts,
      rootPropagation: propagation.root,
      keepShared: propagation.keepShared,
      workingDir: spec.workingDir,
      stdinFifo,
      keepVisible: this.ctx.repoRoot,
      argv,
    });
    const logDir = `${this.podDir}/logs/${spec.name}`;
    await mkdir(logDir, { recursive: true });
    const log = openSync(`${logDir}/${restart}.log`, 'a');
    // Its own session, like a runtime's container: it outlives an emulator restart.
    const child = spawn(launch[0]!, launch.slice(1), {
      env,
      stdio: ['ignore', log, log],
      detached: true,
    });
    const exited = new Promise<number>((resolve) => {
      child.on('exit', (code, sig) => resolve(code ?? (sig === 'SIGKILL' ? 137 : 143)));
      child.on('error', () => resolve(127));
    });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`cannot start ${launch[0]}`);
    return { pid: child.pid, exited };
  }

  private podVolumes(): PodVolumes {
    return new PodVolumes({
      client: this.ctx.client,
      pod: this.pod,
      facts: this.facts(),
      podDir: this.podDir,
      nodeRoot: this.ctx.nodeRoot,
      hostPathsFile: this.ctx.cni.nodeFs?.hostPathsFile,
    });
  }

  private runningContainers(): RunningContainer[] {
    return this.pod.spec.containers.map((spec, i) => ({
      spec,
      state: this.view.containers[i]!,
      probeTimers: [],
      livenessFailures: 0,
      readinessFailures: 0,
    }));
  }

  /** Records what a restarted emulator needs to adopt this pod (see SavedPod). */
  private saveState(): void {
    if (this.stopping || !existsSync(this.podDir)) return;
    const saved: SavedPod = {
      uid: this.uid,
      podIP: this.view.podIP,
      startTime: this.view.startTime,
      containers: this.view.containers.map((c) => ({
        name: c.name,
        pid: c.running ? c.pid : undefined,
        pidStart: c.running && c.pid ? processStartTime(c.pid) : undefined,
        startedAt: c.startedAt,
        restartCount: c.restartCount,
        lastTermination: c.lastTermination,
      })),
    };
    writeFileSync(`${this.podDir}/state.json.tmp`, JSON.stringify(saved));
    renameSync(`${this.podDir}/state.json.tmp`, `${this.podDir}/state.json`);
  }

  /**
   * Takes over a pod this node was running before the emulator restarted: same netns, CNI result
   * and container processes (checked by pid and start time); containers found dead restart per
   * restartPolicy. Readiness carries over from the API until the probes say otherwise.
   */
  async adopt(saved: SavedPod): Promise<void> {
    const phase = this.pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Finished before the restart: nothing runs; keep the status as it is until deletion.
      this.view.phase = phase;
      this.view.podIP = saved.podIP;
      return;
    }
    try {
      this.view.podIP = saved.podIP;
      this.view.startTime = saved.startTime;
      this.view.initialized = true;
      this.view.phase = 'Running';
      this.volumes = this.podVolumes();
      await this.volumes.prepare();
      this.containers = this.runningContainers();
      const apiStatuses: ContainerStatus[] = this.pod.status?.containerStatuses ?? [];
      // All container states first, so the first status written is already the adopted one.
      const found = this.containers.map((c) => {
        const s = saved.containers.find((x) => x.name === c.spec.name);
        c.state.restartCount = s?.restartCount ?? 0;
        c.state.lastTermination = s?.lastTermination;
        c.state.ready = Boolean(apiStatuses.find((x) => x.name === c.spec.name)?.ready);
        const alive = s?.pid !== undefined && processStartTime(s.pid) === s.pidStart;
        if (alive) Object.assign(c.state, { running: true, pid: s.pid, startedAt: s.startedAt });
        return { pid: s?.pid ?? 0, startedAt: s?.startedAt, gone: !alive };
      });
      this.containers.forEach((c, i) => void this.superviseContainer(c, found[i]));
      console.log(
        `pod ${this.key()}: adopted (${this.containers.map((c) => c.state.pid).join(', ')})`,
      );
    } catch (e) {
      console.error(`pod ${this.key()}: adoption: ${(e as Error).message}`);
      this.view.message = `adoption after a node emulator restart: ${(e as Error).message}`;
      this.markDirty();
    }
  }

  /** The pod's resolv.conf by its dnsPolicy, bind-mounted over /etc/resolv.conf in each container. */
  private async writeResolvConf(): Promise<void> {
    const problem = dnsProblem(this.pod);
    if (problem) throw new Error(problem);
    await writeFile(
      `${this.podDir}/resolv.conf`,
      renderResolvConf(podResolvConf(this.pod, this.ctx.dns)),
    );
  }

  /** The FIFO a container with `stdin: true` reads; `kubectl attach -i` writes to it. */
  private async stdinFifo(container: string): Promise<string> {
    const path = `${this.podDir}/stdin/${container}`;
    await mkdir(dirname(path), { recursive: true });
    if (!existsSync(path)) await run('mkfifo', ['-m', '0600', path]);
    return path;
  }

  /** A running container, for exec and attach. */
  container(name: string): Lookup<ContainerHandle> {
    const c = this.containers.find((x) => x.spec.name === name);
    if (!c)
      return {
        error: `container ${name} is not valid for pod ${this.pod.metadata.name}`,
        status: 404,
      };
    const pid = c.state.pid;
    if (!c.state.running || pid === undefined)
      return { error: `container not found ("${name}")`, status: 500 };
    const logFile = `${this.podDir}/logs/${name}/${c.state.restartCount}.log`;
    const fifo = c.spec.stdin ? `${this.podDir}/stdin/${name}` : undefined;
    return {
      exec: (command, io) => execInContainer(pid, command, io),
      attach: (io) => attachToContainer(pid, logFile, fifo, io),
    };
  }

  /** The pod's network, for port-forward: connections to its localhost. */
  portForwardTarget(): Lookup<PodHandle> {
    if (this.view.podIP === undefined || this.stopping)
      return { error: `pod ${this.key()} has no running sandbox`, status: 500 };
    const netns = this.hostNetwork ? undefined : `/run/netns/${this.netns}`;
    return {
      describe: `${this.key()}, uid ${this.uid}`,
      connect: async (port) => {
        const socket = netns
          ? await connectInNetns(netns, { host: '127.0.0.1', port })
          : await connectLocal(port);
        socket.allowHalfOpen = true;
        return socket;
      },
    };
  }

  private async runToCompletion(spec: Container): Promise<number> {
    return (await (await this.spawnContainer(spec, 0)).exited) ?? 137;
  }

  /**
   * Runs a container and restarts it per restartPolicy. `adopted` is a process found running (or,
   * with gone, found dead) by a restarted emulator: it is watched instead of starting a new one.
   */
  private async superviseContainer(
    c: RunningContainer,
    adopted?: { pid: number; startedAt?: string; gone: boolean },
  ): Promise<void> {
    while (!this.stopping) {
      if (adopted) {
        c.proc = {
          pid: adopted.pid,
          exited: adopted.gone ? Promise.resolve(undefined) : watchPid(adopted.pid),
        };
        Object.assign(c.state, {
          running: true,
          startedAt: adopted.startedAt ?? new Date().toISOString(),
          pid: adopted.pid,
          exitCode: undefined,
          waitingReason: undefined,
        });
        adopted = undefined;
      } else {
        try {
          c.proc = await this.spawnContainer(c.spec, c.state.restartCount);
        } catch (e) {
          c.state.waitingReason = 'CreateContainerConfigError';
          this.view.message = (e as Error).message;
          console.error(`pod ${this.key()} container ${c.spec.name}: ${this.view.message}`);
          this.markDirty();
          await sleep(5000);
          continue;
        }
        Object.assign(c.state, {
          running: true,
          startedAt: new Date().toISOString(),
          pid: c.proc.pid,
          exitCode: undefined,
          waitingReason: undefined,
          reason: undefined,
          ready: !c.spec.readinessProbe && !c.spec.startupProbe,
        });
      }
      this.startProbes(c);
      this.markDirty();
      const result = await c.proc.exited;
      // A process adopted after an emulator restart is not our child: its exit code is lost.
      const code = result ?? 137;
      const reason = result === undefined ? 'ContainerStatusUnknown' : undefined;
      this.stopProbes(c);
      const finishedAt = new Date().toISOString();
      Object.assign(c.state, {
        running: false,
        ready: false,
        exitCode: code,
        reason,
        finishedAt,
        pid: undefined,
      });
      c.proc = undefined;
      if (this.stopping) break;
      if (!shouldRestart(this.pod.spec.restartPolicy, code)) {
        if (this.containers.every((x) => !x.state.running))
          this.view.phase = terminalPhase(this.containers.map((x) => x.state.exitCode ?? 0));
        this.markDirty();
        return;
      }
      c.state.lastTermination = {
        exitCode: code,
        finishedAt,
        startedAt: c.state.startedAt,
        reason: reason ?? (code === 0 ? 'Completed' : 'Error'),
      };
      c.state.restartCount++;
      c.state.exitCode = undefined;
      c.state.waitingReason = 'CrashLoopBackOff';
      this.markDirty();
      await sleep(restartBackoffMs(c.state.restartCount));
    }
  }

  /**
   * Probes as the kubelet runs them: a startupProbe first (liveness and readiness wait until it
   * succeeds; failureThreshold failures restart the container), then readiness and liveness.
   */
  private startProbes(c: RunningContainer): void {
    const schedule = (probe: Probe, onResult: (ok: boolean) => void) => {
      const period = (probe.periodSeconds ?? 10) * 1000;
      let stopped = false;
      const first = setTimeout(
        () => {
          const tick = async () => {
            const ok = await runProbe(probe, this.view.podIP ?? '', c.spec, c.state.pid);
            if (!stopped) onResult(ok);
          };
          void tick();
          c.probeTimers.push(setInterval(() => void (stopped || tick()), period));
        },
        (probe.initialDelaySeconds ?? 0) * 1000,
      );
      c.probeTimers.push(first);
      return () => (stopped = true);
    };
    const sp = c.spec.startupProbe;
    c.state.started = !sp;
    if (!sp) {
      this.startRunningProbes(c, schedule);
      return;
    }
    let failures = 0;
    const stop = schedule(sp, (ok) => {
      if (!c.state.running || c.state.started) return;
      if (ok) {
        stop();
        c.state.started = true;
        this.markDirty();
        this.startRunningProbes(c, schedule);
      } else if (++failures >= (sp.failureThreshold ?? 3) && c.proc) {
        stop();
        console.error(
          `pod ${this.key()} container ${c.spec.name}: startup probe failed, restarting`,
        );
        void this.killContainer(c, (this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
      }
    });
  }

  private startRunningProbes(
    c: RunningContainer,
    schedule: (probe: Probe, onResult: (ok: boolean) => void) => () => void,
  ): void {
    const rp = c.spec.readinessProbe;
    if (!rp && !c.state.ready) {
      c.state.ready = true;
      this.markDirty();
    }
    if (rp) {
      let successes = 0;
      schedule(rp, (ok) => {
        if (!c.state.running) return;
        if (ok) {
          successes++;
          c.readinessFailures = 0;
        } else {
          successes = 0;
          c.readinessFailures++;
        }
        const ready = ok
          ? c.state.ready || successes >= (rp.successThreshold ?? 1)
          : c.state.ready && c.readinessFailures < (rp.failureThreshold ?? 3);
        if (ready !== c.state.ready) {
          c.state.ready = ready;
          this.markDirty();
        }
      });
    }
    const lp = c.spec.livenessProbe;
    if (lp) {
      schedule(lp, (ok) => {
        c.livenessFailures = ok ? 0 : c.livenessFailures + 1;
        if (c.livenessFailures >= (lp.failureThreshold ?? 3) && c.proc) {
          console.error(
            `pod ${this.key()} container ${c.spec.name}: liveness probe failed, restarting`,
          );
          c.livenessFailures = 0;
          void this.killContainer(c, (this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
        }
      });
    }
  }

  private stopProbes(c: RunningContainer): void {
    for (const t of c.probeTimers) clearTimeout(t);
    c.probeTimers = [];
  }

  /** SIGTERM, grace period, SIGKILL; then SIGKILL whatever the container had started (no cgroup here). */
  private async killContainer(c: RunningContainer, graceMs: number): Promise<void> {
    const proc = c.proc;
    if (!proc) return;
    const family = descendants(proc.pid);
    signal(proc.pid, 'SIGTERM');
    const killed = await Promise.race([
      proc.exited.then(() => true),
      sleep(graceMs).then(() => false),
    ]);
    if (!killed) {
      signal(proc.pid, 'SIGKILL');
      await proc.exited;
    }
    for (const pid of [...family, ...descendants(proc.pid)]) signal(pid, 'SIGKILL');
  }

  /** Stops containers (SIGTERM, grace, SIGKILL), tears down the sandbox, and removes the API object. */
  async terminate(graceMs: number, deleteObject: boolean, orphan?: SavedPod): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Processes of a pod found after an emulator restart, deleted meanwhile (hostNetwork ones too).
    for (const c of orphan?.containers ?? [])
      if (c.pid && processStartTime(c.pid) === c.pidStart) signal(c.pid, 'SIGKILL');
    for (const c of this.containers) this.stopProbes(c);
    await Promise.all(this.containers.map((c) => this.killContainer(c, graceMs)));
    this.volumes?.stop();
    if (!this.hostNetwork) {
      // Anything still in the pod's netns (processes that escaped their parent) dies with the pod.
      const left = await run('ip', ['netns', 'pids', this.netns], { allowFailure: true });
      for (const pid of left.stdout.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await cniDel(this.ctx.cni, this.cniRef()).catch((e) =>
        console.error(`pod ${this.key()}: CNI DEL: ${(e as Error).message}`),
      );
      await run('ip', ['netns', 'delete', this.netns], { allowFailure: true });
    }
    await rm(this.podDir, { recursive: true, force: true });
    if (deleteObject) {
      const { namespace, name } = this.pod.metadata;
      await this.ctx.client
        .req('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid: this.uid },
        })
        .catch((e) => console.error(`pod ${this.key()}: final delete: ${(e as Error).message}`));
    }
    this.ctx.forget(this.uid);
  }

  private markDirty(): void {
    this.saveState();
    this.statusDirty = true;
    if (!this.statusLoop)
      this.statusLoop = this.flushStatus().finally(() => (this.statusLoop = undefined));
  }

  private async flushStatus(): Promise<void> {
    while (this.statusDirty) {
      this.statusDirty = false;
      if (this.stopping && this.pod.metadata.deletionTimestamp) return;
      const status = renderPodStatus(this.view, new Date().toISOString(), this.lastStatus);
      const { namespace, name } = this.pod.metadata;
      try {
        await this.ctx.client.req(
          'PATCH',
          `/api/v1/namespaces/${namespace}/pods/${name}/status`,
          { status },
          'application/merge-patch+json',
        );
        this.lastStatus = status;
      } catch (e) {
        console.error(`pod ${this.key()}: status update: ${(e as Error).message}`);
        if (!this.stopping) {
          await sleep(1000);
          this.statusDirty = true;
        }
      }
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return (await stat(p)).isDirectory();
}

function connectLocal(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Resolves (with an unknown exit code) once a process that is not our child has gone. */
async function watchPid(pid: number): Promise<undefined> {
  const start = processStartTime(pid);
  while (start !== undefined && processStartTime(pid) === start) await sleep(500);
  return undefined;
}
