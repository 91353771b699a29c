// Kubernetes name rules for namespaces (RFC 1123 labels) and service accounts (RFC 1123
// subdomains). Each check returns what is wrong, or undefined when the name is valid.
// (@trellis/pki has the same rules internally but does not export them.)

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function namespaceProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return `is ${name.length} characters long, the limit is 63`;
  if (!LABEL.test(name)) return "must be lowercase letters, digits and '-', starting and ending with a letter or digit";
  return undefined;
}

export function serviceAccountProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `is ${name.length} characters long, the limit is 253`;
  if (!name.split('.').every((part) => LABEL.test(part))) {
    return "must be lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit";
  }
  return undefined;
}
