// HeaderValueOption lists and *_headers_to_remove -> HeaderMutation, with Envoy's append actions and
// the command operators Trellis supports in values. Pure.
import {
  HeaderValueOption_HeaderAppendAction as Action,
  type HeaderValueOption,
} from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  NO_MUTATION,
  type AppendAction,
  type HeaderMutation,
  type HeaderToAdd,
  type HeaderValueTemplate,
} from '../model/route.js';
import { checkHeaderText, headerName, invalid } from './common.js';

/** Command operators a header value may use (Envoy's names). */
export const HEADER_OPERATORS = new Set([
  'DOWNSTREAM_REMOTE_ADDRESS',
  'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT',
  'DOWNSTREAM_LOCAL_ADDRESS',
  'DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT',
  'DOWNSTREAM_PEER_URI_SAN',
  'UPSTREAM_REMOTE_ADDRESS',
  'PROTOCOL',
  'START_TIME',
  'HOSTNAME',
  'REQ',
]);

const APPEND: Record<number, AppendAction> = {
  [Action.APPEND_IF_EXISTS_OR_ADD]: 'append',
  [Action.ADD_IF_ABSENT]: 'add-if-absent',
  [Action.OVERWRITE_IF_EXISTS_OR_ADD]: 'overwrite-or-add',
  [Action.OVERWRITE_IF_EXISTS]: 'overwrite-if-exists',
};

/** Parses "%OP%" / "%REQ(name)%" / "%%" in a value; unknown operators are refused, as Envoy does. */
export function headerValueTemplate(value: string, field: string): HeaderValueTemplate {
  checkHeaderText(value, field);
  if (!value.includes('%')) return { literal: value };
  const parts: (string | { operator: string; arg?: string })[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }
    if (value[i + 1] === '%') {
      text += '%';
      i += 2;
      continue;
    }
    const end = value.indexOf('%', i + 1);
    if (end === -1)
      invalid(field, `unterminated operator in "${value}" (write %% for a literal %)`);
    const expr = value.slice(i + 1, end);
    const m = /^([A-Z_]+)(?:\(([^)]*)\))?(?::\d+)?$/.exec(expr);
    if (!m || !HEADER_OPERATORS.has(m[1]!))
      invalid(
        field,
        `unsupported operator %${expr}% (supported: ${[...HEADER_OPERATORS].join(', ')})`,
      );
    if (text !== '') parts.push(text);
    text = '';
    parts.push(
      m[2] !== undefined ? { operator: m[1]!, arg: m[2].toLowerCase() } : { operator: m[1]! },
    );
    i = end + 1;
  }
  if (text !== '') parts.push(text);
  if (parts.every((p) => typeof p === 'string')) return { literal: parts.join('') };
  return { parts };
}

export function headerMutation(
  add: readonly HeaderValueOption[],
  remove: readonly string[],
  field: string,
): HeaderMutation {
  if (add.length === 0 && remove.length === 0) return NO_MUTATION;
  const out: HeaderToAdd[] = [];
  for (const [i, o] of add.entries()) {
    const f = `${field}_to_add[${i}]`;
    if (!o.header) invalid(f, 'header is missing');
    const name = headerName(o.header.key, `${f}.header.key`);
    if (name.startsWith(':') && name !== ':authority')
      invalid(`${f}.header.key`, `pseudo-header ${name} cannot be set`);
    const raw =
      o.header.rawValue.length > 0
        ? Buffer.from(o.header.rawValue).toString('latin1')
        : o.header.value;
    let action = APPEND[o.appendAction];
    if (action === undefined) invalid(`${f}.append_action`, `unknown action ${o.appendAction}`);
    // The deprecated `append` BoolValue, when set, wins: false means overwrite.
    if (o.append !== undefined) action = o.append ? 'append' : 'overwrite-or-add';
    out.push({
      name: name === ':authority' ? 'host' : name,
      value: headerValueTemplate(raw, `${f}.header.value`),
      action,
      keepEmpty: o.keepEmptyValue,
    });
  }
  const rm = remove.map((n, i) => {
    const name = headerName(n, `${field}_to_remove[${i}]`);
    if (name.startsWith(':') || name === 'host')
      invalid(`${field}_to_remove[${i}]`, `${name} cannot be removed`);
    return name;
  });
  return { remove: rm, add: out };
}
