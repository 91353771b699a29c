// `--local-config FILE`: workloads, services and policies from a YAML file, so ztunnel runs
// without a control plane. Each entry is built into the same protobuf message the control plane
// would send and goes through the same converters, so a file and WDS can never disagree about
// what is valid. The schema is documented in the package README and examples/local.yaml. Pure:
// text in, typed values (or every problem found) out.
import type { Result } from '@trellis/core';
import { parse, YAMLParseError } from 'yaml';
import { convertAuthorization } from './convert/authorization.js';
import { convertService } from './convert/service.js';
import { convertWorkload } from './convert/workload.js';
import { policyKey, serviceKey, type Authorization, type Service, type Workload } from './model.js';
import type { StateUpdate } from './store.js';
import { policyMessage, serviceMessage, workloadMessage } from './local-config-messages.js';
import { FieldError, list, mapping, quote, type Json } from './yaml-fields.js';

export interface LocalConfig {
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly policies: readonly Authorization[];
}

export class LocalConfigError extends Error {
  override readonly name = 'LocalConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
  }
}

/** Parses the YAML text of a local config; `source` (the file name) prefixes error messages. */
export function parseLocalConfig(text: string, source = 'local config'): LocalConfig {
  let doc: Json;
  try {
    doc = parse(text);
  } catch (err) {
    const message = err instanceof YAMLParseError ? err.message : String(err);
    throw new LocalConfigError(source, [`not valid YAML: ${message}`]);
  }
  const problems: string[] = [];
  let top: Record<string, Json>;
  try {
    top = mapping(doc ?? {}, '(top level)', ['workloads', 'services', 'policies']);
  } catch (err) {
    throw new LocalConfigError(source, [(err as Error).message]);
  }

  const section = <T>(
    name: string,
    label: (v: T) => string,
    key: (v: T) => string,
    build: (entry: Json, path: string) => Result<T>,
  ) => {
    const out: T[] = [];
    const seen = new Map<string, number>();
    let entries: Json[] = [];
    try {
      entries = list(top[name], name);
    } catch (err) {
      problems.push((err as Error).message);
    }
    entries.forEach((entry, i) => {
      const path = `${name}[${i}]`;
      try {
        const r = build(entry, path);
        if (!r.ok) {
          problems.push(`${path}: ${r.reason}`);
          return;
        }
        const k = key(r.value);
        const first = seen.get(k);
        if (first !== undefined) {
          problems.push(`${path}: duplicate ${label(r.value)} (same as ${name}[${first}])`);
          return;
        }
        seen.set(k, i);
        out.push(r.value);
      } catch (err) {
        if (!(err instanceof FieldError)) throw err;
        problems.push(err.message);
      }
    });
    return out;
  };

  const workloads = section<Workload>(
    'workloads',
    (w) => `uid ${quote(w.uid)}`,
    (w) => w.uid,
    (e, p) => convertWorkload(workloadMessage(e, p)),
  );
  const services = section<Service>(
    'services',
    (s) => `service ${serviceKey(s)}`,
    serviceKey,
    (e, p) => convertService(serviceMessage(e, p)),
  );
  const policies = section<Authorization>(
    'policies',
    (a) => `policy ${policyKey(a)}`,
    policyKey,
    (e, p) => convertAuthorization(policyMessage(e, p)),
  );
  if (problems.length > 0) throw new LocalConfigError(source, problems);
  return { workloads, services, policies };
}

/** The update that turns the store's contents from `previous` (if any) into `next`. */
export function localConfigUpdate(
  previous: LocalConfig | undefined,
  next: LocalConfig,
): StateUpdate {
  const gone = <T>(
    key: (v: T) => string,
    before: readonly T[] | undefined,
    after: readonly T[],
  ) => {
    const keep = new Set(after.map(key));
    return (before ?? []).map(key).filter((k) => !keep.has(k));
  };
  return {
    removeWorkloads: gone((w: Workload) => w.uid, previous?.workloads, next.workloads),
    removeServices: gone(serviceKey, previous?.services, next.services),
    removePolicies: gone(policyKey, previous?.policies, next.policies),
    upsertWorkloads: next.workloads,
    upsertServices: next.services,
    upsertPolicies: next.policies,
  };
}
