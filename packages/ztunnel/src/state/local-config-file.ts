// Reads a --local-config file into the state store, and re-reads it on demand (main wires SIGHUP
// to reload). A reload replaces what the previous read put in the store, in one atomic apply; a
// file that no longer parses leaves the store as it was.
import { readFile } from 'node:fs/promises';
import type { Logger } from '@trellis/core';
import { localConfigUpdate, parseLocalConfig, type LocalConfig } from './local-config.js';
import type { StateChange, StateStore } from './store.js';

export class LocalConfigFile {
  private current: LocalConfig | undefined;

  constructor(
    readonly path: string,
    private readonly store: StateStore,
  ) {}

  /** Reads, validates and applies the file. Throws (LocalConfigError or a read error) on failure. */
  async load(): Promise<StateChange> {
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
