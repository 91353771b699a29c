// Istio's path templates in AuthorizationPolicy `paths` / `notPaths`: `{*}` is one path segment,
// `{**}` the rest of the path and must come after every other template. A path holding either is
// matched as an Envoy URI template (`*`, `**`); its other segments must be plain path characters,
// and braces anywhere else are refused. Istio's admission refuses such paths; without a webhook,
// the control plane says so in the policy's status and never lets them weaken it. Pure.

const ONE = '{*}';
const ANY = '{**}';
/** RFC 3986 pchar without `*`: the segments a template may hold besides its globs. */
const LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/**
 * The Envoy uri_template of a path template, or why it is refused; undefined for a plain path (no
 * `{` or `}`: Istio refuses braces anywhere but in a template).
 */
export function envoyPathTemplate(
  path: string,
): { template: string } | { invalid: string } | undefined {
  if (!/[{}]/.test(path)) return undefined;
  const bad = (why: string) => ({ invalid: `path template "${path}": ${why}` });
  if (!path.startsWith('/')) return bad('must start with /');
  let sawAny = false;
  for (const segment of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if (segment === ONE || segment === ANY) {
      if (sawAny) return bad('{**} must be the last template');
      sawAny = segment === ANY;
    } else if (/[{}]/.test(segment)) {
      return bad(`"${segment}": {*} and {**} must be whole segments, and no other { } may appear`);
    } else if (!LITERAL.test(segment)) {
      return bad(
        `"${segment}" is not a valid path segment (empty, or characters outside RFC 3986 pchar)`,
      );
    }
  }
  return { template: path.replaceAll(ANY, '**').replaceAll(ONE, '*') };
}
