// Ctrl-C (SIGINT) or SIGTERM while the runner or the demo owns a cluster. The first signal stops
// the run at its next step (`check()` throws; the caller's `finally` deletes the cluster, so
// nothing — netns, mounts, processes — is left behind); commands running at that moment get the
// signal too (same process group). A second signal exits at once and says how to clean up.
export class Interrupt {
  #signal: NodeJS.Signals | undefined;
  readonly #handler: (signal: NodeJS.Signals) => void;

  /** `cluster`: the local cluster the caller deletes when it stops (none: an existing cluster). */
  constructor(
    cluster: string | undefined,
    log: (l: string) => void,
    provider: 'local' | 'kind' = 'local',
  ) {
    const del = `trellis cluster delete${provider === 'kind' ? ' --provider kind' : ''} --name`;
    this.#handler = (signal) => {
      if (this.#signal) {
        log(
          `${signal} again: exiting now${cluster ? `; delete the cluster with ${del} ${cluster}` : ''}`,
        );
        process.exit(130);
      }
      this.#signal = signal;
      log(
        `${signal}: stopping after the current step${cluster ? `, then deleting cluster ${cluster}` : ''} (again to exit now)`,
      );
    };
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  /** Throws when a signal came: call between steps. */
  check(): void {
    if (this.#signal) throw new Error(`interrupted by ${this.#signal}`);
  }

  get interrupted(): boolean {
    return this.#signal !== undefined;
  }

  dispose(): void {
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }
}
