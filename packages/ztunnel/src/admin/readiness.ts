// Readiness: ready once every task that blocks it has finished (e.g. "initial config": the local
// config was read, or later the first xDS sync). Served on /healthz/ready by the readiness server.
export class Readiness {
  private readonly waiting = new Set<string>();

  /** Registers a task that readiness waits for; call the returned function when it is done. */
  block(task: string): () => void {
    if (this.waiting.has(task))
      throw new Error(`readiness task ${JSON.stringify(task)} is already registered`);
    this.waiting.add(task);
    return () => {
      this.waiting.delete(task);
    };
  }

  get ready(): boolean {
    return this.waiting.size === 0;
  }

  /** Tasks still being waited for, sorted. */
  pending(): string[] {
    return [...this.waiting].sort();
  }
}
