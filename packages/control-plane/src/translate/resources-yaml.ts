// WDS resources as stable YAML (protobuf JSON of each resource, keyed by resource name in name
// order): the golden-file format, also fit for an offline `translate` command. Protobuf JSON shows
// IP addresses as base64; each gets a comment with the readable address.
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { stringify } from 'yaml';

export function resourcesToYaml<Desc extends DescMessage>(
  schema: Desc,
  resources: ReadonlyMap<string, MessageShape<Desc>>,
): string {
  if (resources.size === 0) return '{}\n';
  const doc: Record<string, unknown> = {};
  for (const name of [...resources.keys()].sort()) doc[name] = toJson(schema, resources.get(name)!);
  return stringify(doc, { lineWidth: 0 }).replace(
    /^(\s*(?:- )?address: |\s*- )([A-Za-z0-9+/]{6,}={0,2})$/gm,
    (line, _p, b64: string) => {
      const ip = ipText(Buffer.from(b64, 'base64'));
      return ip ? `${line} # ${ip}` : line;
    },
  );
}

function ipText(b: Uint8Array): string | undefined {
  if (b.length === 4) return b.join('.');
  if (b.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // Compress the longest run of two or more zero groups (RFC 5952).
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}
