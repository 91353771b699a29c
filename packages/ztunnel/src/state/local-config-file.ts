// Reads a --local-config file into the state store, and re-reads it on demand (main wires SIGHUP
// to reload). A reload replaces what the previous read put in the store, in one atomic apply; a
// file that no longer parses leaves the store as it was.
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '@trellis/core';
import {
  LocalConfigError,
  localConfigUpdate,
  parseLocalConfig,
  type LocalConfig,
} from './local-config.js';
import type { StateChange, StateStore } from './store.js';

/** Largest --local-config file read: 32 MiB. */
export const MAX_LOCAL_CONFIG_BYTES = 32 * 1024 * 1024;

export class LocalConfigFile {
  private current: LocalConfig | undefined;

  constructor(
    readonly path: string,
    private readonly store: StateStore,
  ) {}

  /** Reads, validates and applies the file. Throws (LocalConfigError or a read error) on failure. */
  async load(): Promise<StateChange> {
    const { size } = await stat(this.path);
    if (size > MAX_LOCAL_CONFIG_BYTES)
      throw new LocalConfigError(this.path, [
        `the file is ${size} bytes; at most ${MAX_LOCAL_CONFIG_BYTES} are read (a node's workloads take a few MB)`,
      ]);
    const text = await readFile(this.path, 'utf8');
    const next = parseLocalConfig(text, this.path);
    const change = this.store.apply(localConfigUpdate(this.current, next));
    this.current = next;
    return change;
  }

  /** Like load, but logs a failure and keeps the previous contents. Returns whether it applied. */
  async reload(logger: Logger): Promise<boolean> {
    try {
      const change = await this.load();
      logger.info({ path: this.path, change }, 'local config reloaded');
      return true;
    } catch (err) {
      logger.error(
        { path: this.path, err: (err as Error).message },
        'local config reload failed; keeping the previous contents',
      );
      return false;
    }
  }
}
