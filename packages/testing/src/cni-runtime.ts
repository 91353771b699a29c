// A container runtime's side of CNI, for tests that drive a plugin chain by hand: each plugin of a
// conflist run as its own process with the CNI_* environment and the network config on stdin
// (prevResult threaded through ADD; CHECK and DEL given the ADD result), in a chosen netns with a
// chosen PATH — so a test can prove a plugin needs nothing from it (no Node.js).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pluginCommand, pluginEnv, type CniPodRef, type NodeFs } from '@trellis/local-cluster';

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

/** The sandbox a runtime sets up (CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, the K8S_POD_* args). */
export type CniCall = CniPodRef;

export interface CniRuntimeOptions {
  /** Where plugin binaries are looked up, in order (also CNI_PATH). */
  binDirs: string[];
  /** The runtime's own netns (the node's); plugins run there. */
  hostNetns: string;
  /** PATH given to the plugins. */
  path: string;
  /** The node's filesystem as the plugins see it (the local cluster's node emulator does the same). */
  nodeFs?: NodeFs;
}

export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CNI error a plugin printed (its exit status was not 0). */
export class CniPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly run: PluginRun,
  ) {
    super(`${plugin} exited ${run.code}: ${run.stdout.trim()} ${run.stderr.trim()}`);
  }

  /** The error JSON on stdout ({ cniVersion, code, msg, details }). */
  get error(): { cniVersion?: string; code?: number; msg?: string; details?: string } {
    return JSON.parse(this.run.stdout) as never;
  }
}

function findPlugin(binDirs: string[], type: string): string {
  for (const d of binDirs) if (existsSync(`${d}/${type}`)) return `${d}/${type}`;
  throw new Error(`CNI plugin "${type}" not found in ${binDirs.join(':')}`);
}

/** Runs one plugin binary exactly as a runtime does: env, stdin, stdout; nothing else. */
export async function invokePlugin(
  binary: string,
  env: Record<string, string>,
  stdin: string,
  opts: Pick<CniRuntimeOptions, 'hostNetns' | 'path' | 'nodeFs'>,
): Promise<PluginRun> {
  const argv = await pluginCommand(binary, opts.nodeFs);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/nsenter', [`--net=${opts.hostNetns}`, ...argv], {
      env: { ...env, PATH: opts.path },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The CNI_* environment of one call, as the local cluster's runtime sets it. */
export function cniEnv(
  command: 'ADD' | 'CHECK' | 'DEL',
  call: CniCall,
  binDirs: string[],
): Record<string, string> {
  return pluginEnv(command, call, binDirs);
}

/**
 * Runs `command` over the chain. ADD returns each plugin's result (the last is the chain's);
 * CHECK and DEL need the ADD result. Throws CniPluginError on the first failing plugin (DEL goes
 * on through every plugin and throws the first failure at the end, as runtimes do).
 */
export async function runChain(
  command: 'ADD' | 'CHECK' | 'DEL',
  list: Conflist,
  call: CniCall,
  opts: CniRuntimeOptions,
  addResult?: unknown,
): Promise<unknown[]> {
  const order = list.plugins.map((_, i) => i);
  if (command === 'DEL') order.reverse();
  const results: unknown[] = [];
  let prev = command === 'ADD' ? undefined : addResult;
  let failure: CniPluginError | undefined;
  for (const i of order) {
    const plugin = list.plugins[i]!;
    const conf = {
      ...plugin,
      cniVersion: list.cniVersion,
      name: list.name,
      ...(prev !== undefined ? { prevResult: prev } : {}),
    };
    const run = await invokePlugin(
      findPlugin(opts.binDirs, plugin.type),
      cniEnv(command, call, opts.binDirs),
      JSON.stringify(conf),
      opts,
    );
    if (run.code !== 0) {
      failure ??= new CniPluginError(plugin.type, run);
      if (command !== 'DEL') throw failure;
      continue;
    }
    const result = run.stdout.trim() ? (JSON.parse(run.stdout) as unknown) : undefined;
    results.push(result);
    if (command === 'ADD') prev = result ?? prev;
  }
  if (failure) throw failure;
  return results;
}
