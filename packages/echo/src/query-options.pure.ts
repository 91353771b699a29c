// The HTTP server's query options, as Istio's echo server reads them:
//   ?codes=code[:weight][,code[:weight]]*  answer with one of these codes, picked by weight
//                                          (?codes=500:1,200:1: 500 half of the time)
//   ?headers=name:value[,name:value]*      add these response headers
//   ?delay=<Go duration>                   wait this long before answering
// A malformed option becomes an error line in the body (and 400 for codes), as upstream.
import { parseGoDuration } from './go-duration.pure.js';

export interface QueryOptions {
  status: number;
  headers: Array<[string, string]>;
  delayMs: number;
  errors: string[];
}

/** `random()` in [0, 1) picks among weighted codes. */
export function queryOptions(query: URLSearchParams, random: () => number): QueryOptions {
  const errors: string[] = [];
  let delayMs = 0;
  const delay = query.get('delay');
  if (delay) {
    try {
      delayMs = Math.max(0, parseGoDuration(delay) / 1e6);
    } catch (e) {
      errors.push(`error delaying response error: ${(e as Error).message}`);
    }
  }
  let headers: Array<[string, string]> = [];
  const h = query.get('headers');
  if (h) {
    try {
      headers = responseHeaders(h);
    } catch (e) {
      errors.push(`response headers error: ${(e as Error).message}`);
    }
  }
  let status = 200;
  const c = query.get('codes');
  if (c) {
    try {
      status = pickCode(weightedCodes(c), random);
    } catch (e) {
      errors.push(`codes error: ${(e as Error).message}`);
      status = 400;
    }
  }
  return { status, headers, delayMs, errors };
}

export function responseHeaders(spec: string): Array<[string, string]> {
  return spec.split(',').map((item) => {
    const parts = item.split(':');
    if (parts.length !== 2 || parts[0] === '')
      throw new Error(`invalid "${item}" (want name:value)`);
    return [parts[0]!, parts[1]!];
  });
}

export interface WeightedCode {
  code: number;
  weight: number;
}

export function weightedCodes(spec: string): WeightedCode[] {
  return spec.split(',').map((item) => {
    const parts = item.split(':');
    if (parts.length > 2) throw new Error(`invalid "${item}" (want code or code:count)`);
    const code = Number(parts[0]);
    if (!/^\d+$/.test(parts[0]!)) throw new Error(`invalid code "${parts[0]}" in "${item}"`);
    if (code < 200 || code >= 600) throw new Error(`invalid HTTP response code ${code}`);
    if (parts.length === 1) return { code, weight: 1 };
    if (!/^-?\d+$/.test(parts[1]!)) throw new Error(`invalid count "${parts[1]}" in "${item}"`);
    const weight = Number(parts[1]);
    if (weight < 0) throw new Error(`invalid count ${weight}`);
    return { code, weight };
  });
}

export function pickCode(codes: WeightedCode[], random: () => number): number {
  const total = codes.reduce((n, c) => n + c.weight, 0);
  if (total === 0) throw new Error('every code has a count of 0');
  let slice = Math.floor(random() * total);
  for (const c of codes) {
    if (slice < c.weight) return c.code;
    slice -= c.weight;
  }
  return codes[codes.length - 1]!.code;
}

/**
 * The Content-Type upstream's answers end up with: it sets "application/text" after writing the
 * status, which Go's HTTP/1 server still honours unless the handler had looked at the headers
 * before (it does for ?headers=), while Go's HTTP/2 server never does; otherwise Go sniffs the
 * text body as "text/plain; charset=utf-8".
 */
export function answerContentType(httpMajor: number, query: URLSearchParams): string {
  return httpMajor === 2 || query.get('headers') ? 'text/plain; charset=utf-8' : 'application/text';
}
