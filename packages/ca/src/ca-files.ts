// Istio's plug-in CA layout (the `cacerts` Secret / directory, and the self-signed `istio-ca-secret`):
// ca-cert.pem (the signing CA), ca-key.pem (its key), root-cert.pem (the root),
// cert-chain.pem (ca-cert and the certificates above it up to the root).
export const CA_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;
export type CaFileName = (typeof CA_FILES)[number];
export type CaFiles = Readonly<Record<CaFileName, string>>;

/** Where CA files are kept: a directory, or a Kubernetes Secret. */
export interface CaStore {
  /** Human-readable location for messages, e.g. "directory /etc/cacerts". */
  readonly location: string;
  /** The files present (an empty object when there are none). */
  load(): Promise<Partial<Record<CaFileName, string>>>;
  /** Writes all four files; keys are written readable by the owner only. */
  save(files: CaFiles): Promise<void>;
}
