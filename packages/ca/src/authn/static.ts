// No-cluster authentication: a file listing tokens and the service account (and node) each one
// stands for. YAML or JSON: a list of { token, namespace, serviceAccount, node? }.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import {
  AuthenticationError,
  type Authenticator,
  type Caller,
  type NodeIndex,
  type ServiceAccountRef,
} from '../caller.js';
import {
  dns1123LabelProblem as namespaceProblem,
  dns1123SubdomainProblem as serviceAccountProblem,
} from '@trellis/pki';

export interface StaticTokenEntry extends Caller {
  readonly token: string;
}

/** Parses and validates a static token file's text; throws one Error listing every problem. */
export function parseStaticTokens(text: string, source = 'static tokens'): StaticTokenEntry[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML or JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (!Array.isArray(doc))
    throw new Error(
      `${source}: expected a list of {token, namespace, serviceAccount, node} entries`,
    );
  const problems: string[] = [];
  const entries: StaticTokenEntry[] = [];
  const seen = new Map<string, number>();
  doc.forEach((raw: unknown, i) => {
    const at = `entry #${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    const e = raw as Record<string, unknown>;
    const unknown = Object.keys(e).filter(
      (k) => !['token', 'namespace', 'serviceAccount', 'node'].includes(k),
    );
    if (unknown.length) problems.push(`${at}: unknown field(s) ${unknown.join(', ')}`);
    const str = (k: string, required: boolean): string | undefined => {
      const v = e[k];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v === '') {
        problems.push(`${at}: ${k} must be a non-empty string`);
        return undefined;
      }
      return v;
    };
    const token = str('token', true);
    const namespace = str('namespace', true);
    const serviceAccount = str('serviceAccount', true);
    const node = str('node', false);
    const nsProblem = namespace === undefined ? undefined : namespaceProblem(namespace);
    if (nsProblem) problems.push(`${at}: namespace "${namespace}" ${nsProblem}`);
    const saProblem =
      serviceAccount === undefined ? undefined : serviceAccountProblem(serviceAccount);
    if (saProblem) problems.push(`${at}: serviceAccount "${serviceAccount}" ${saProblem}`);
    if (token !== undefined) {
      const first = seen.get(token);
      // The token itself is never printed.
      if (first !== undefined)
        problems.push(`${at}: duplicate token (same as entry #${first + 1})`);
      else seen.set(token, i);
    }
    if (token && namespace && serviceAccount) {
      entries.push({ token, namespace, serviceAccount, ...(node ? { node } : {}) });
    }
  });
  if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
  return entries;
}

export async function readStaticTokens(path: string): Promise<StaticTokenEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`static tokens file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseStaticTokens(text, `static tokens file ${path}`);
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** An authenticator and node index over static entries. */
export function staticIdentities(entries: readonly StaticTokenEntry[]): {
  authenticator: Authenticator;
  nodeIndex: NodeIndex;
} {
  const byToken = new Map<string, Caller>();
  const byNode = new Map<string, ServiceAccountRef[]>();
  for (const { token, ...caller } of entries) {
    byToken.set(digest(token), caller);
    if (caller.node) {
      const list = byNode.get(caller.node) ?? [];
      list.push({ namespace: caller.namespace, serviceAccount: caller.serviceAccount });
      byNode.set(caller.node, list);
    }
  }
  return {
    authenticator: {
      async authenticate(token) {
        const caller = byToken.get(digest(token));
        if (!caller)
          throw new AuthenticationError('the bearer token is not one of the static tokens');
        return caller;
      },
    },
    nodeIndex: { workloadsOn: (node) => byNode.get(node) ?? [] },
  };
}
