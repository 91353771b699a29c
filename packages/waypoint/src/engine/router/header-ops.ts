// Applying HeaderMutations: removals, then additions with Envoy's append actions; values with
// command operators are filled from the request's context. Pure.
import { hasHeader, removeHeader, setHeader, type HeaderList } from '../http/headers.pure.js';
import { getHeaderJoined } from '../http/headers.pure.js';
import type { HeaderMutation, HeaderValueTemplate } from '../model/route.js';

/** What command operators may read. */
export interface HeaderContext {
  readonly downstreamRemote: string;
  readonly downstreamLocal: string;
  readonly peerUri?: string;
  readonly upstreamRemote?: string;
  readonly protocol: string;
  readonly startTime: number;
  readonly hostname: string;
  readonly requestHeaders: readonly string[];
}

function hostOf(addr: string): string {
  if (addr.startsWith('[')) return addr.slice(1, addr.indexOf(']'));
  const c = addr.lastIndexOf(':');
  return c === -1 || addr.indexOf(':') !== c ? addr : addr.slice(0, c);
}

/** Values are rendered lazily: the context is only built for a template with operators. */
export type HeaderContextSource = () => HeaderContext;

export function renderValue(
  t: HeaderValueTemplate,
  source: HeaderContextSource | undefined,
): string {
  if ('literal' in t) return t.literal;
  const ctx = source?.();
  let out = '';
  for (const p of t.parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    if (!ctx) continue;
    switch (p.operator) {
      case 'DOWNSTREAM_REMOTE_ADDRESS':
        out += ctx.downstreamRemote;
        break;
      case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
        out += hostOf(ctx.downstreamRemote);
        break;
      case 'DOWNSTREAM_LOCAL_ADDRESS':
        out += ctx.downstreamLocal;
        break;
      case 'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT':
        out += hostOf(ctx.downstreamLocal);
        break;
      case 'DOWNSTREAM_PEER_URI_SAN':
        out += ctx.peerUri ?? '';
        break;
      case 'UPSTREAM_REMOTE_ADDRESS':
        out += ctx.upstreamRemote ?? '';
        break;
      case 'PROTOCOL':
        out += ctx.protocol;
        break;
      case 'START_TIME':
        out += new Date(ctx.startTime).toISOString();
        break;
      case 'HOSTNAME':
        out += ctx.hostname;
        break;
      case 'REQ':
        out += getHeaderJoined(ctx.requestHeaders, p.arg ?? '') ?? '';
        break;
    }
  }
  return out;
}

/**
 * Applies `m` to `headers` in place. A "host" entry (from a mutation of :authority) is returned
 * instead of being added, since the authority is not in the list.
 */
export function applyMutation(
  headers: HeaderList,
  m: HeaderMutation,
  ctx?: HeaderContextSource,
): string | undefined {
  for (const name of m.remove) removeHeader(headers, name);
  let host: string | undefined;
  for (const a of m.add) {
    const value = renderValue(a.value, ctx);
    if (value === '' && !a.keepEmpty) continue;
    if (a.name === 'host') {
      host = value;
      continue;
    }
    switch (a.action) {
      case 'append':
        headers.push(a.name, value);
        break;
      case 'add-if-absent':
        if (!hasHeader(headers, a.name)) headers.push(a.name, value);
        break;
      case 'overwrite-or-add':
        setHeader(headers, a.name, value);
        break;
      case 'overwrite-if-exists':
        if (hasHeader(headers, a.name)) setHeader(headers, a.name, value);
        break;
    }
  }
  return host;
}
