// Invokes a node's CNI chain for a pod sandbox the way a container runtime does: reads the first
// config in the conf dir, runs each plugin binary with spec env vars and JSON stdin, threads
// prevResult through the chain, caches the final result for DEL.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import {
  pickConfFile,
  pluginEnv,
  pluginStdin,
  toConflist,
  type CniPodRef,
  type NetConfList,
} from './cni.pure.js';
import { nodeFsBinds, pluginArgv } from './cni-node-fs.pure.js';
import { ensureHostMountpoint, readList } from './host-mountpoints.js';

export interface CniRuntime {
  confDir: string;
  binDirs: string[];
  cacheDir: string;
  /** Run plugins over the node's filesystem (cni-node-fs.pure); absent: over the host's. */
  nodeFs?: NodeFs;
}

export interface NodeFs {
  /** The node's root directory (hostPathSource). */
  root: string;
  /** The host paths the node's pods have used (PodVolumes records them). */
  hostPathsFile: string;
  hostMountpointsFile: string;
  /** Host directories no bind may hide (the node dir, the programs' dirs). */
  keepVisible: string[];
}

/** The node's CNI dirs are host paths of the node whether or not a pod has mounted them. */
const CNI_HOST_PATHS = ['/etc/cni/net.d', '/opt/cni/bin'];

/** The argv that runs a plugin binary over the node's filesystem (or as it is, without one). */
export async function pluginCommand(binary: string, fs: NodeFs | undefined): Promise<string[]> {
  if (!fs) return [binary];
  const binds = nodeFsBinds(
    [...CNI_HOST_PATHS, ...readList(fs.hostPathsFile)],
    fs.root,
    fs.keepVisible,
  ).filter((b) => existsSync(b.source));
  for (const b of binds) await ensureHostMountpoint(b.target, false, fs.hostMountpointsFile);
  return pluginArgv(binary, binds);
}

export function loadNetwork(confDir: string): NetConfList {
  const file = existsSync(confDir) ? pickConfFile(readdirSync(confDir)) : undefined;
  if (!file) throw new Error(`no CNI network config in ${confDir}`);
  return toConflist(readFileSync(`${confDir}/${file}`, 'utf8'), `${confDir}/${file}`);
}

function findPlugin(binDirs: string[], type: string): string {
  for (const d of binDirs) if (existsSync(`${d}/${type}`)) return `${d}/${type}`;
  throw new Error(`CNI plugin "${type}" not found in ${binDirs.join(':')}`);
}

async function invoke(
  rt: CniRuntime,
  binary: string,
  env: Record<string, string>,
  stdin: string,
): Promise<unknown> {
  const argv = await pluginCommand(binary, rt.nodeFs);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...env, PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        resolve(out.trim() ? JSON.parse(out) : undefined);
      } else {
        reject(
          new Error(`CNI ${env.CNI_COMMAND} ${binary} exited ${code}: ${out.trim()} ${err.trim()}`),
        );
      }
    });
    child.stdin.end(stdin);
  });
}

export async function cniAdd(rt: CniRuntime, ref: CniPodRef): Promise<unknown> {
  const list = loadNetwork(rt.confDir);
  let result: unknown = undefined;
  for (let i = 0; i < list.plugins.length; i++) {
    const plugin = list.plugins[i]!;
    result =
      (await invoke(
        rt,
        findPlugin(rt.binDirs, plugin.type),
        pluginEnv('ADD', ref, rt.binDirs),
        pluginStdin(list, i, result),
      )) ?? result;
  }
  await mkdir(rt.cacheDir, { recursive: true });
  await writeFile(`${rt.cacheDir}/${ref.containerID}.json`, JSON.stringify({ list, result }));
  return result;
}

export async function cniDel(rt: CniRuntime, ref: CniPodRef): Promise<void> {
  const cacheFile = `${rt.cacheDir}/${ref.containerID}.json`;
  let list: NetConfList;
  let result: unknown;
  if (existsSync(cacheFile)) {
    ({ list, result } = JSON.parse(readFileSync(cacheFile, 'utf8')) as {
      list: NetConfList;
      result: unknown;
    });
  } else {
    list = loadNetwork(rt.confDir);
  }
  const errors: string[] = [];
  for (let i = list.plugins.length - 1; i >= 0; i--) {
    const plugin = list.plugins[i]!;
    try {
      await invoke(
        rt,
        findPlugin(rt.binDirs, plugin.type),
        pluginEnv('DEL', ref, rt.binDirs),
        pluginStdin(list, i, result),
      );
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  await rm(cacheFile, { force: true });
  if (errors.length) throw new Error(errors.join('; '));
}
