// Envoy's URI template path matcher (envoy.path.match.uri_template), as Istio uses it for the
// path templates of AuthorizationPolicy (`/api/{*}/admin` arrives as `/api/*/admin`): literals, `*`
// (one path segment, at least one character) and `**` (zero or more characters, slashes included;
// no glob may follow it). The whole path, without query and fragment, must match. Variables
// (`{name}`, `{name=...}`) are refused: Istio never sends them. Pure.

/** The characters a literal and a glob may hold: RFC 3986 pchar without `*` (Envoy's set). */
const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const LITERAL = new RegExp(`^[${PCHAR}]+$`);

/** The template as an anchored expression, or a message saying what is wrong with it. */
export function compileUriTemplate(template: string): RegExp | string {
  if (!/^\/[\x21-\x7e]*$/.test(template))
    return `"${template}" must start with / and hold only printable ASCII without spaces`;
  let out = '';
  let afterTextGlob = false;
  let lastWasSlash = false;
  for (let rest = template; rest !== '';) {
    if (rest.startsWith('/')) {
      if (lastWasSlash) return `"${template}" has an empty segment (//)`;
      out += '/';
      lastWasSlash = true;
      rest = rest.slice(1);
      continue;
    }
    lastWasSlash = false;
    if (rest.startsWith('*')) {
      if (afterTextGlob) return `"${template}": no glob may follow **`;
      const text = rest.startsWith('**');
      out += text ? `[${PCHAR}/]*` : `[${PCHAR}]+`;
      afterTextGlob = text;
      rest = rest.slice(text ? 2 : 1);
      continue;
    }
    if (rest.startsWith('{')) return `"${template}": variables ({name}) are not supported`;
    const end = rest.search(/[/{]/);
    const literal = end < 0 ? rest : rest.slice(0, end);
    if (!LITERAL.test(literal)) return `"${template}": "${literal}" is not a valid path literal`;
    out += literal.replace(/[.$()+]/g, '\\$&');
    rest = rest.slice(literal.length);
  }
  return new RegExp(`^${out}$`);
}

/** Whether the path (its query and fragment are ignored) matches the compiled template. */
export function matchesUriTemplate(re: RegExp, path: string): boolean {
  const end = path.search(/[?#]/);
  return re.test(end < 0 ? path : path.slice(0, end));
}
