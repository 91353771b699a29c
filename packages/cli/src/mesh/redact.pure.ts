// What `trellis x translate` prints of a proxy's resources: Secrets by name only. A Gateway's
// backend client certificate (spec.tls.backend) travels inline in its clusters' UpstreamTlsContext;
// its private key is printed as "[redacted]", as the proxies' /config_dump shows it. Pure.

/** `json` (a proto3 JSON value) with every `privateKey` data source replaced by "[redacted]". */
export function redactPrivateKeys<T>(json: T): T {
  if (Array.isArray(json)) return json.map((v: unknown) => redactPrivateKeys(v)) as T;
  if (json === null || typeof json !== 'object') return json;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json))
    out[k] = k === 'privateKey' ? { inlineString: '[redacted]' } : redactPrivateKeys(v);
  return out as T;
}
