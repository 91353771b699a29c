// SPIFFE IDs (spiffe://<trust-domain>/<path>) per the SPIFFE ID specification, and the Kubernetes
// workload form spiffe://<trust-domain>/ns/<namespace>/sa/<service-account> used by the mesh.
import { dns1123LabelProblem, dns1123SubdomainProblem } from './kube-names.js';

/** Any valid SPIFFE ID. `path` is '' for a trust domain ID, otherwise starts with '/'. */
export interface SpiffeId {
  readonly uri: string;
  readonly trustDomain: string;
  readonly path: string;
}

/** A Kubernetes workload identity: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. */
export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Thrown for a string that is not a valid SPIFFE ID (or not a workload identity). */
export class SpiffeIdError extends Error {
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`invalid SPIFFE ID ${quote(input)}: ${problem}`);
    this.name = 'SpiffeIdError';
  }
}

const SCHEME = 'spiffe://';
const MAX_ID_BYTES = 2048;
const MAX_TRUST_DOMAIN_BYTES = 255;
const TRUST_DOMAIN_CHAR = /[a-z0-9._-]/;
const PATH_CHAR = /[a-zA-Z0-9._-]/;

/** Why `td` is not a valid trust domain name, or undefined if it is one. */
export function trustDomainProblem(td: string): string | undefined {
  if (td.length === 0) return 'trust domain is missing';
  if (td.includes('@')) return 'must not contain userinfo (user@)';
  if (td.includes(':')) return 'trust domain must not contain a port';
  if (Buffer.byteLength(td) > MAX_TRUST_DOMAIN_BYTES) {
    return `trust domain is ${Buffer.byteLength(td)} bytes long, the limit is ${MAX_TRUST_DOMAIN_BYTES}`;
  }
  for (const ch of td) {
    if (TRUST_DOMAIN_CHAR.test(ch)) continue;
    if (ch !== ch.toLowerCase()) return `trust domain ${quote(td)} must be lowercase`;
    return `trust domain ${quote(td)} contains ${quote(ch)}; only lowercase letters, digits, '.', '-' and '_' are allowed`;
  }
  return undefined;
}

/** Validates a bare trust domain name (e.g. "cluster.local") and returns it. */
export function parseTrustDomain(td: string): string {
  const problem = trustDomainProblem(td);
  if (problem) throw new Error(`invalid trust domain ${quote(td)}: ${problem}`);
  return td;
}

/** Parses any SPIFFE ID, e.g. "spiffe://example.org/a/b". Throws SpiffeIdError saying what is wrong. */
export function parseSpiffeUri(input: string): SpiffeId {
  const fail = (problem: string): never => {
    throw new SpiffeIdError(input, problem);
  };
  if (typeof input !== 'string') throw new SpiffeIdError(String(input), 'not a string');
  if (input.length === 0) fail('is empty');
  if (Buffer.byteLength(input) > MAX_ID_BYTES) {
    fail(`is ${Buffer.byteLength(input)} bytes long, the limit is ${MAX_ID_BYTES}`);
  }
  if (!input.startsWith(SCHEME)) {
    if (input.toLowerCase().startsWith(SCHEME)) fail("scheme must be lowercase 'spiffe'");
    fail("must start with 'spiffe://'");
  }
  const rest = input.slice(SCHEME.length);
  if (rest.includes('?')) fail('must not contain a query (?)');
  if (rest.includes('#')) fail('must not contain a fragment (#)');
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  const tdProblem = trustDomainProblem(trustDomain);
  if (tdProblem) fail(tdProblem);
  if (path !== '') {
    const segments = path.slice(1).split('/');
    segments.forEach((segment, i) => {
      if (segment === '')
        fail(
          i === segments.length - 1
            ? "path must not end with '/'"
            : 'path must not contain empty segments (//)',
        );
      if (segment === '.' || segment === '..') fail("path must not contain '.' or '..' segments");
      for (const ch of segment) {
        if (!PATH_CHAR.test(ch)) {
          fail(
            `path segment ${quote(segment)} contains ${quote(ch)}; only letters, digits, '.', '-' and '_' are allowed`,
          );
        }
      }
    });
  }
  return { uri: input, trustDomain, path };
}

/** Parses the SPIFFE ID a certificate carries: a valid SPIFFE ID whose path is not empty. */
export const parseSvidSpiffeId: (input: string) => SpiffeId = remembered((input) => {
  const id = parseSpiffeUri(input);
  if (id.path === '')
    throw new SpiffeIdError(input, 'a workload identity needs a path after the trust domain');
  return id;
});

/** Parses a workload identity spiffe://<td>/ns/<namespace>/sa/<service-account>. */
export const parseSpiffeId: (input: string) => WorkloadIdentity = remembered(parseWorkloadSpiffeId);

/**
 * `parse`, answering an input it parsed before from memory (valid ones only; the answers are
 * frozen, as callers share them): ztunnel parses the peer's and its own ID on every connection, and
 * a mesh has a few thousand identities at most, so a full memory is simply emptied.
 */
function remembered<T extends object>(parse: (input: string) => T): (input: string) => T {
  const known = new Map<string, T>();
  return (input) => {
    let answer = known.get(input);
    if (answer) return answer;
    answer = Object.freeze(parse(input));
    if (known.size >= REMEMBERED_IDS) known.clear();
    known.set(input, answer);
    return answer;
  };
}
const REMEMBERED_IDS = 4096;

function parseWorkloadSpiffeId(input: string): WorkloadIdentity {
  const id = parseSpiffeUri(input);
  const parts = id.path.split('/').slice(1);
  if (parts.length !== 4 || parts[0] !== 'ns' || parts[2] !== 'sa') {
    throw new SpiffeIdError(
      input,
      `path ${quote(id.path)} is not of the form /ns/<namespace>/sa/<service-account>`,
    );
  }
  const [, namespace, , serviceAccount] = parts as [string, string, string, string];
  const problem = workloadNameProblem(namespace, serviceAccount);
  if (problem) throw new SpiffeIdError(input, problem);
  return { trustDomain: id.trustDomain, namespace, serviceAccount };
}

/** Formats a workload identity as its SPIFFE ID, validating every part. */
export function formatSpiffeId(identity: WorkloadIdentity): string {
  const { trustDomain, namespace, serviceAccount } = identity;
  const uri = `${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  const problem = trustDomainProblem(trustDomain) ?? workloadNameProblem(namespace, serviceAccount);
  if (problem) throw new SpiffeIdError(uri, problem);
  return uri;
}

function workloadNameProblem(namespace: string, serviceAccount: string): string | undefined {
  const nsProblem = dns1123LabelProblem(namespace);
  if (nsProblem) return `namespace ${quote(namespace)} ${nsProblem}`;
  const saProblem = dns1123SubdomainProblem(serviceAccount);
  if (saProblem) return `service account ${quote(serviceAccount)} ${saProblem}`;
  return undefined;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...` : s);
}
