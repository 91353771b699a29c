// The `--config-dir` source: Kubernetes manifests in a directory become ClusterSnapshots, again
// whenever the directory changes. Works with ConfigMap volumes (their `..data` symlink swap is a
// change of the directory). Files are read in name order; hidden files are skipped.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ClusterSnapshot } from '../model/kube.js';
import {
  DEFAULT_MANIFEST_LIMITS,
  formatBytes,
  parseManifestSteps,
  snapshotFromObjects,
  type ManifestLimits,
  type ManifestProblem,
  type ParsedManifests,
  type SourcedObject,
} from './manifests.js';

export interface ConfigDirLimits extends ManifestLimits {
  /** Largest file read, in bytes; a larger one is skipped (and reported) without being read. */
  readonly maxFileBytes: number;
}

/** Parsing gives the event loop back after this long, so /ready and xDS streams keep being served. */
const SLICE_MS = 10;

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ConfigDirLoad {
  snapshot: ClusterSnapshot;
  /** Rejected documents; everything else was kept. */
  problems: ManifestProblem[];
  /** Documents of kinds the control plane does not read. */
  ignored: string[];
  /** The manifest files read, in order. */
  files: string[];
}

/** Reads every `*.yaml`, `*.yml` and `*.json` file directly in `dir`. Throws if the directory cannot be listed. */
export async function loadConfigDir(
  dir: string,
  limits: ConfigDirLimits = DEFAULT_MANIFEST_LIMITS,
): Promise<ConfigDirLoad> {
  return (await readConfigDir(dir, limits)).load;
}

async function readConfigDir(
  dir: string,
  limits: ConfigDirLimits,
): Promise<{ load: ConfigDirLoad; fingerprint: string }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.') && MANIFEST_FILE.test(n)).sort();
  } catch (err) {
    throw new Error(`config dir ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const objects: SourcedObject[] = [];
  const problems: ManifestProblem[] = [];
  const ignored: string[] = [];
  const files: string[] = [];
  // A hash of the names and contents read (not the contents: they can be large).
  const fingerprint = createHash('sha256');
  const parsed: ParsedManifests = { objects, problems, ignored };
  let sliceStart = performance.now();
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) continue; // follows symlinks; skips directories named *.yaml
      if (info.size > limits.maxFileBytes) {
        files.push(name);
        fingerprint.update(`${name}\0${info.size}\0${info.mtimeMs}\0`);
        problems.push({
          file: name,
          document: 0,
          message: `${formatBytes(info.size)} is more than the ${formatBytes(limits.maxFileBytes)} allowed for one file (--config-max-file-size); not read`,
        });
        continue;
      }
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // removed while we were reading; the next change event rereads
      problems.push({ file: name, document: 0, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    files.push(name);
    fingerprint.update(`${name}\0${text.length}\0`).update(text);
    for (const _ of parseManifestSteps(text, name, limits, parsed)) {
      if (performance.now() - sliceStart < SLICE_MS) continue;
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  const built = snapshotFromObjects(objects);
  problems.push(...built.problems);
  return {
    load: { snapshot: built.snapshot, problems, ignored, files },
    fingerprint: fingerprint.digest('hex'),
  };
}

export interface WatchConfigDirOptions {
  /** Quiet period after the last change before rereading. Default 100 ms. */
  debounceMs?: number;
  /** File and document size limits. Default DEFAULT_MANIFEST_LIMITS. */
  limits?: ConfigDirLimits;
  /** Called with the first load, then after every change that alters the files' names or contents. */
  onLoad(load: ConfigDirLoad): void;
  /** Called when the directory cannot be read or watched; watching continues where possible. */
  onError(err: Error): void;
}

export interface ConfigDirWatcher {
  /** Resolves with the first load (rejects if the directory cannot be read). */
  ready: Promise<ConfigDirLoad>;
  close(): void;
}

export function watchConfigDir(dir: string, options: WatchConfigDirOptions): ConfigDirWatcher {
  const debounceMs = options.debounceMs ?? 100;
  const limits = options.limits ?? DEFAULT_MANIFEST_LIMITS;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let again = false;
  let lastFingerprint: string | undefined;
  let settleReady: ((result: { load?: ConfigDirLoad; err?: Error }) => void) | undefined;
  const ready = new Promise<ConfigDirLoad>((resolve, reject) => {
    settleReady = ({ load, err }) => (load ? resolve(load) : reject(err));
  });

  // Reads are serialized; a change seen during a read triggers one more read afterwards.
  const reload = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    do {
      again = false;
      try {
        const { load, fingerprint } = await readConfigDir(dir, limits);
        if (closed || fingerprint === lastFingerprint) continue;
        lastFingerprint = fingerprint;
        settleReady?.({ load });
        settleReady = undefined;
        options.onLoad(load);
      } catch (err) {
        if (settleReady) {
          settleReady({ err: err as Error });
          settleReady = undefined;
        } else if (!closed) {
          options.onError(err as Error);
        }
      }
    } while (again && !closed);
    reading = false;
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
  };

  let watcher: FSWatcher;
  try {
    // Watch before the first read so that no change between the two is missed.
    watcher = watch(dir, { persistent: true }, schedule);
  } catch (err) {
    return {
      ready: Promise.reject(
        new Error(`watching config dir ${dir}: ${(err as Error).message}`, { cause: err }),
      ),
      close() {},
    };
  }
  watcher.on('error', (err) => {
    if (!closed)
      options.onError(new Error(`watching config dir ${dir}: ${err.message}`, { cause: err }));
  });
  void reload();
  return {
    ready,
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
      settleReady?.({ err: new Error(`watching config dir ${dir}: closed before the first load`) });
    },
  };
}
