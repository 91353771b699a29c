// What the Envoy translators could not honour, for status conditions and logs.

export interface EnvoyNote {
  kind:
    | 'HTTPRoute'
    | 'GRPCRoute'
    | 'TLSRoute'
    | 'TCPRoute'
    | 'AuthorizationPolicy'
    | 'Service'
    | 'Gateway'
    | 'RequestAuthentication'
    | 'DestinationRule'
    | 'BackendTLSPolicy';
  /** `<namespace>/<name>` of the object. */
  object: string;
  message: string;
}

/** Collects notes once each, in arrival order. */
export class NoteSink {
  readonly notes: EnvoyNote[] = [];
  private readonly seen = new Set<string>();

  add(kind: EnvoyNote['kind'], object: string, message: string): void {
    const key = `${kind}\0${object}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.notes.push({ kind, object, message });
  }
}
