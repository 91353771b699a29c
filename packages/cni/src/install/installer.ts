// The agent's installer: copies trellis-cni into the node's CNI bin dir, writes the plugin's
// kubeconfig into the run dir, and chains the plugin last into the primary conflist — and keeps it
// there when something rewrites that file (watched, and checked every few seconds). uninstall()
// takes all three away again.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import type { Logger } from '@trellis/core';
import { KUBECONFIG_FILE } from '../plugin-events.pure.js';
import { PLUGIN_TYPE } from '../plugin/cni-protocol.pure.js';
import { insertPlugin, primaryConfFile, removePlugin, type PluginEntry } from './conflist.pure.js';

export interface InstallerOptions {
  pluginBinary: string;
  binDir: string;
  netDir: string;
  confName: string;
  runDir: string;
  entry: PluginEntry;
  /** The kubeconfig text to write (re-read when the token rotates). */
  kubeconfig(): string;
  logger: Logger;
  /** How often the conflist and kubeconfig are checked besides the watch. */
  checkEveryMs?: number;
  onInstalled?(
    result:
      | 'SUCCESS'
      | 'COPY_BINARIES_FAILURE'
      | 'CREATE_KUBECONFIG_FAILURE'
      | 'CREATE_CNI_CONFIG_FAILURE',
  ): void;
}

function sha(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

function writeAtomically(path: string, data: string | Buffer, mode: number): void {
  const tmp = `${path}.trellis-tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export class Installer {
  readonly #o: InstallerOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #ready = false;
  #stopped = false;

  constructor(opts: InstallerOptions) {
    this.#o = opts;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Installs once; resolves when the plugin is chained (waits for a primary config to appear). */
  async install(): Promise<void> {
    try {
      this.#copyBinary();
    } catch (err) {
      this.#o.onInstalled?.('COPY_BINARIES_FAILURE');
      throw err;
    }
    try {
      this.#writeKubeconfig();
    } catch (err) {
      this.#o.onInstalled?.('CREATE_KUBECONFIG_FAILURE');
      throw err;
    }
    while (!this.#chain()) {
      if (this.#stopped) throw new Error('the installer was stopped before the plugin was chained');
      this.#o.logger.info({ dir: this.#o.netDir }, 'waiting for the primary CNI config');
      await new Promise((r) => setTimeout(r, 1000));
    }
    this.#ready = true;
    this.#o.onInstalled?.('SUCCESS');
  }

  /** Keeps the plugin chained and the kubeconfig fresh until stop(). */
  watch(): void {
    const recheck = () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.#check(), 100);
    };
    try {
      this.#watcher = watch(this.#o.netDir, recheck);
      this.#watcher.on('error', () => undefined);
    } catch (err) {
      this.#o.logger.warn(
        { err: (err as Error).message },
        'cannot watch the CNI config dir; checking periodically',
      );
    }
    this.#timer = setInterval(() => this.#check(), this.#o.checkEveryMs ?? 5000);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
  }

  /** Removes the conflist entry, the plugin binary and the kubeconfig. */
  uninstall(): void {
    this.stop();
    for (const f of this.#confFiles()) {
      const path = `${this.#o.netDir}/${f}`;
      try {
        const text = removePlugin(readFileSync(path, 'utf8'), f);
        if (text !== undefined) {
          writeAtomically(path, text, statSync(path).mode & 0o777);
          this.#o.logger.info({ file: path }, 'removed trellis-cni from the CNI config');
        }
      } catch (err) {
        this.#o.logger.warn(
          { file: path, err: (err as Error).message },
          'cannot clean a CNI config',
        );
      }
    }
    rmSync(`${this.#o.binDir}/${PLUGIN_TYPE}`, { force: true });
    rmSync(`${this.#o.runDir}/${KUBECONFIG_FILE}`, { force: true });
    this.#ready = false;
  }

  #confFiles(): string[] {
    try {
      return readdirSync(this.#o.netDir).filter((f) => /\.(conflist|conf|json)$/.test(f));
    } catch {
      return [];
    }
  }

  #check(): void {
    try {
      this.#writeKubeconfig();
      if (!this.#chain())
        this.#o.logger.warn({ dir: this.#o.netDir }, 'the primary CNI config is gone');
      if (sha(`${this.#o.binDir}/${PLUGIN_TYPE}`) !== sha(this.#o.pluginBinary)) this.#copyBinary();
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'install check failed');
    }
  }

  #copyBinary(): void {
    const target = `${this.#o.binDir}/${PLUGIN_TYPE}`;
    if (!existsSync(this.#o.pluginBinary))
      throw new Error(
        `plugin binary ${this.#o.pluginBinary} does not exist (npm run build makes it)`,
      );
    if (sha(target) === sha(this.#o.pluginBinary)) return;
    mkdirSync(this.#o.binDir, { recursive: true });
    const tmp = `${target}.trellis-tmp`;
    copyFileSync(this.#o.pluginBinary, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
    this.#o.logger.info({ target }, 'plugin binary installed');
  }

  #writeKubeconfig(): void {
    const path = `${this.#o.runDir}/${KUBECONFIG_FILE}`;
    const text = this.#o.kubeconfig();
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // first write
    }
    if (current === text) return;
    mkdirSync(this.#o.runDir, { recursive: true });
    writeAtomically(path, text, 0o600);
  }

  /** Puts our entry last in the primary config; false when there is no primary config yet. */
  #chain(): boolean {
    const files = this.#confFiles();
    const name = primaryConfFile(files, this.#o.confName);
    if (!name) return false;
    const path = `${this.#o.netDir}/${name}`;
    const text = readFileSync(path, 'utf8');
    const next = insertPlugin(text, name, this.#o.entry);
    if (next) {
      const mode = statSync(path).mode & 0o777;
      writeAtomically(`${this.#o.netDir}/${next.fileName}`, next.text, mode);
      if (next.fileName !== name) rmSync(path, { force: true });
      this.#o.logger.info(
        { file: `${this.#o.netDir}/${next.fileName}` },
        'trellis-cni chained as the last plugin',
      );
    }
    return true;
  }
}
