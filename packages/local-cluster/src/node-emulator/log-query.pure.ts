// The kubelet's container-logs endpoint, as the apiserver calls it for `kubectl logs`:
// GET /containerLogs/<namespace>/<pod>/<container>?follow=&previous=&tailLines=&limitBytes=

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
}

export function parseLogRequest(url: string): LogRequest | undefined {
  const u = new URL(url, 'https://kubelet');
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(u.pathname);
  if (!m) return undefined;
  const num = (k: string) => {
    const v = u.searchParams.get(k);
    return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  return {
    namespace: decodeURIComponent(m[1]!),
    pod: decodeURIComponent(m[2]!),
    container: decodeURIComponent(m[3]!),
    follow: u.searchParams.get('follow') === 'true',
    previous: u.searchParams.get('previous') === 'true',
    tailLines: num('tailLines'),
    limitBytes: num('limitBytes'),
  };
}

/** The last n lines of a log (a trailing newline does not count as an empty line). */
export function tailLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing !== undefined ? '\n' : '');
}
