// Dynamic metadata (per-request values filters write, e.g. istio_authn's source.principal or
// request.auth.claims) and Envoy's MetadataMatcher / ValueMatcher over it. Pure.
import type { MetadataMatcher } from '@trellis/api/gen/envoy/type/matcher/v3/metadata_pb.js';
import type { ValueMatcher } from '@trellis/api/gen/envoy/type/matcher/v3/value_pb.js';
import { invalid } from './common.js';
import { stringMatcher } from './matchers.js';

/** JSON-like values, as google.protobuf.Value holds them. */
export type MetadataValue =
  | string
  | number
  | boolean
  | null
  | readonly MetadataValue[]
  | { readonly [key: string]: MetadataValue };

/** filter name -> struct. */
export type DynamicMetadata = Map<string, Record<string, MetadataValue>>;

export type MetadataPredicate = (md: DynamicMetadata) => boolean;

type ValuePredicate = (v: MetadataValue | undefined) => boolean;

export function metadataMatcher(m: MetadataMatcher, field: string): MetadataPredicate {
  if (m.filter === '') invalid(`${field}.filter`, 'empty filter name');
  const path: string[] = [];
  for (const [i, seg] of m.path.entries()) {
    if (seg.segment.case !== 'key')
      invalid(`${field}.path[${i}]`, 'only key segments are supported');
    path.push(seg.segment.value);
  }
  if (path.length === 0) invalid(`${field}.path`, 'empty path');
  const test = valueMatcher(m.value, `${field}.value`);
  const filter = m.filter;
  const inv = m.invert;
  return (md) => {
    let v: MetadataValue | undefined = md.get(filter);
    for (const key of path) {
      if (v === undefined || v === null || typeof v !== 'object' || Array.isArray(v)) {
        v = undefined;
        break;
      }
      v = (v as Record<string, MetadataValue>)[key];
    }
    const r = test(v);
    return inv ? !r : r;
  };
}

export function valueMatcher(m: ValueMatcher | undefined, field: string): ValuePredicate {
  if (!m) invalid(field, 'value matcher is missing');
  const p = m.matchPattern;
  switch (p.case) {
    case 'nullMatch':
      return (v) => v === null;
    case 'presentMatch':
      return p.value ? (v) => v !== undefined : (v) => v === undefined;
    case 'boolMatch':
      return (v) => v === p.value;
    case 'stringMatch': {
      const t = stringMatcher(p.value, `${field}.string_match`);
      return (v) => typeof v === 'string' && t(v);
    }
    case 'doubleMatch': {
      const d = p.value.matchPattern;
      if (d.case === 'exact') return (v) => typeof v === 'number' && v === d.value;
      if (d.case === 'range') {
        const { start, end } = d.value;
        return (v) => typeof v === 'number' && v >= start && v < end;
      }
      invalid(`${field}.double_match`, 'no match pattern');
      break;
    }
    case 'listMatch': {
      const l = p.value.matchPattern;
      if (l.case !== 'oneOf') invalid(`${field}.list_match`, 'only one_of is supported');
      const each = valueMatcher(l.value, `${field}.list_match.one_of`);
      return (v) => Array.isArray(v) && v.some((x) => each(x));
    }
    case 'orMatch': {
      const all = p.value.valueMatchers.map((x, i) => valueMatcher(x, `${field}.or_match[${i}]`));
      return (v) => all.some((t) => t(v));
    }
    default:
      invalid(field, 'no match pattern');
  }
}
