// Kubernetes object name rules used by workload identities: namespaces are RFC 1123 labels,
// service accounts RFC 1123 subdomains. Each check returns what is wrong, or undefined when valid.

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not an RFC 1123 label (a namespace name), or undefined if it is one. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return `is ${name.length} characters long, the limit is 63`;
  if (!LABEL.test(name)) {
    return "must consist of lowercase letters, digits and '-', and start and end with a letter or digit";
  }
  return undefined;
}

/** Why `name` is not an RFC 1123 subdomain (a service account name), or undefined if it is one. */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `is ${name.length} characters long, the limit is 253`;
  if (!name.split('.').every((part) => LABEL.test(part))) {
    return "must consist of lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit";
  }
  return undefined;
}
