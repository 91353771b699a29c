// From decoded header fields to the headers object handed to HBONE code, with the checks of
// RFC 9113 §8.2-8.3 that matter for a CONNECT tunnel: lowercase names, pseudo-header fields first
// and only the ones defined for requests or responses, no connection-specific fields.
import type { HeaderField } from './hpack.pure.js';
import type { IncomingHeaders } from '../tunnel-stream.js';

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const RESPONSE_PSEUDO = new Set([':status']);
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

export type HeadersResult =
  | { readonly ok: true; readonly value: IncomingHeaders }
  | { readonly ok: false; readonly reason: string };

/** Collects `fields` into an object (repeated names become arrays), or says why they are malformed. */
export function headersObject(
  fields: readonly HeaderField[],
  kind: 'request' | 'response',
): HeadersResult {
  const out: IncomingHeaders = {};
  const allowed = kind === 'request' ? REQUEST_PSEUDO : RESPONSE_PSEUDO;
  let regularSeen = false;
  for (const [name, value] of fields) {
    if (name.length === 0 || name !== name.toLowerCase()) {
      return { ok: false, reason: `header name ${JSON.stringify(name)} is empty or not lowercase` };
    }
    if (name.startsWith(':')) {
      if (regularSeen) return { ok: false, reason: `pseudo-header ${name} after a regular header` };
      if (!allowed.has(name))
        return { ok: false, reason: `pseudo-header ${name} is not allowed in a ${kind}` };
      if (out[name] !== undefined)
        return { ok: false, reason: `pseudo-header ${name} is repeated` };
      out[name] = value;
      continue;
    }
    regularSeen = true;
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) {
      return { ok: false, reason: `connection-specific header ${name}` };
    }
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[name] = [previous, value];
  }
  if (kind === 'request' && out[':method'] === undefined) {
    return { ok: false, reason: 'the request has no :method' };
  }
  if (kind === 'response' && !/^[1-5]\d\d$/.test(String(out[':status']))) {
    return { ok: false, reason: `the response has no valid :status (${String(out[':status'])})` };
  }
  return { ok: true, value: out };
}
