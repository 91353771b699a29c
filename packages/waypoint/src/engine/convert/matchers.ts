// Envoy's string, regex, header and query matchers compiled into predicates. Regexes are Google
// RE2 in Envoy; JavaScript regexes accept more (backreferences, lookaround: exponential in the
// worst case), so those constructs are refused and every regex must match the whole input, as in
// Envoy. Pure.
import type { RegexMatcher } from '@trellis/api/gen/envoy/type/matcher/v3/regex_pb.js';
import type { StringMatcher } from '@trellis/api/gen/envoy/type/matcher/v3/string_pb.js';
import type {
  HeaderMatcher,
  QueryParameterMatcher,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { getHeaderJoined } from '../http/headers.pure.js';
import { headerName, invalid } from './common.js';

export type StringPredicate = (value: string) => boolean;

/** Compiles an RE2-compatible pattern that must match the whole input. */
export function compileRegex(pattern: string, field: string, flags = ''): RegExp {
  if (/\(\?[=!]|\(\?<[=!]|\\[1-9]|\\k</.test(pattern)) {
    invalid(
      field,
      `regex "${pattern}" uses lookaround or backreferences, which RE2 does not allow`,
    );
  }
  try {
    return new RegExp(`^(?:${pattern})$`, flags);
  } catch (err) {
    invalid(field, `invalid regex "${pattern}": ${(err as Error).message}`);
  }
}

export function regexMatcher(m: RegexMatcher | undefined, field: string, flags = ''): RegExp {
  if (!m) invalid(field, 'regex is missing');
  return compileRegex(m.regex, `${field}.regex`, flags);
}

export function stringMatcher(m: StringMatcher | undefined, field: string): StringPredicate {
  if (!m) invalid(field, 'string matcher is missing');
  const ic = m.ignoreCase;
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact': {
      if (!ic) return (s) => s === p.value;
      const want = p.value.toLowerCase();
      return (s) => s.toLowerCase() === want;
    }
    case 'prefix': {
      if (p.value === '') invalid(`${field}.prefix`, 'must not be empty');
      if (!ic) return (s) => s.startsWith(p.value);
      const want = p.value.toLowerCase();
      return (s) => s.toLowerCase().startsWith(want);
    }
    case 'suffix': {
      if (p.value === '') invalid(`${field}.suffix`, 'must not be empty');
      if (!ic) return (s) => s.endsWith(p.value);
      const want = p.value.toLowerCase();
      return (s) => s.toLowerCase().endsWith(want);
    }
    case 'contains': {
      if (p.value === '') invalid(`${field}.contains`, 'must not be empty');
      if (!ic) return (s) => s.includes(p.value);
      const want = p.value.toLowerCase();
      return (s) => s.toLowerCase().includes(want);
    }
    case 'safeRegex': {
      const re = regexMatcher(p.value, `${field}.safe_regex`, ic ? 'i' : '');
      return (s) => re.test(s);
    }
    default:
      invalid(field, `unsupported match pattern ${String(p.case ?? '(none)')}`);
  }
}

/** Reads a header (or pseudo-header) by lowercase name; repeated headers joined by ",". */
export interface HeaderSource {
  header(name: string): string | undefined;
}

export type HeaderPredicate = (src: HeaderSource) => boolean;

/** Envoy HeaderMatcher: value predicates, presence, range, invert_match, treat_missing_header_as_empty. */
export function headerMatcher(m: HeaderMatcher, field: string): HeaderPredicate {
  const name = headerName(m.name, `${field}.name`);
  const s = m.headerMatchSpecifier;
  let valueTest: ((v: string) => boolean) | undefined;
  let present: boolean | undefined;
  switch (s.case) {
    case 'exactMatch':
      valueTest = (v) => v === s.value;
      break;
    case 'prefixMatch':
      valueTest = (v) => v.startsWith(s.value);
      break;
    case 'suffixMatch':
      valueTest = (v) => v.endsWith(s.value);
      break;
    case 'containsMatch':
      valueTest = (v) => v.includes(s.value);
      break;
    case 'safeRegexMatch': {
      const re = regexMatcher(s.value, `${field}.safe_regex_match`);
      valueTest = (v) => re.test(v);
      break;
    }
    case 'stringMatch':
      valueTest = stringMatcher(s.value, `${field}.string_match`);
      break;
    case 'rangeMatch': {
      const start = Number(s.value.start);
      const end = Number(s.value.end);
      valueTest = (v) => {
        if (!/^-?\d+$/.test(v)) return false;
        const n = Number(v);
        return n >= start && n < end;
      };
      break;
    }
    case 'presentMatch':
      present = s.value;
      break;
    case undefined:
      // No specifier: the header must be present (Envoy's legacy default).
      present = true;
      break;
    default:
      invalid(field, `unsupported header match ${String((s as { case: string }).case)}`);
  }
  const invert = m.invertMatch;
  const missingAsEmpty = m.treatMissingHeaderAsEmpty;
  return (src) => {
    let v = src.header(name);
    if (v === undefined && missingAsEmpty) v = '';
    let r: boolean;
    if (present !== undefined) r = (v !== undefined) === present;
    else r = v !== undefined && valueTest!(v);
    return invert ? !r : r;
  };
}

/** Query parameters of a request path, decoded, first value per name. */
export function queryParams(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q === -1) return out;
  for (const part of path.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const name = safeDecode(rawName);
    if (!out.has(name)) out.set(name, safeDecode(rawValue));
  }
  return out;
}

function safeDecode(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

export type QueryPredicate = (params: Map<string, string>) => boolean;

export function queryMatcher(m: QueryParameterMatcher, field: string): QueryPredicate {
  const name = m.name;
  if (name === '') invalid(`${field}.name`, 'empty query parameter name');
  const s = m.queryParameterMatchSpecifier;
  switch (s.case) {
    case 'stringMatch': {
      const test = stringMatcher(s.value, `${field}.string_match`);
      return (params) => {
        const v = params.get(name);
        return v !== undefined && test(v);
      };
    }
    case 'presentMatch':
      return (params) => params.has(name) === s.value;
    case undefined:
      return (params) => params.has(name);
    default:
      invalid(field, 'unsupported query parameter match');
  }
}

/** A HeaderSource over a flat header list plus the request's pseudo-headers. */
export function headerSource(
  headers: readonly string[],
  pseudo: { method: string; path: string; authority: string; scheme: string },
): HeaderSource {
  return {
    header(name) {
      if (name.charCodeAt(0) === 58) {
        switch (name) {
          case ':method':
            return pseudo.method;
          case ':path':
            return pseudo.path;
          case ':authority':
            return pseudo.authority;
          case ':scheme':
            return pseudo.scheme;
          default:
            return undefined;
        }
      }
      if (name === 'host') return pseudo.authority;
      return getHeaderJoined(headers, name);
    },
  };
}
