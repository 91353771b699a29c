// BackendTLSPolicy and ConfigMap objects -> the typed model. A policy without a hostname or with
// neither CA references nor well-known CAs is refused (the CRD requires them); the status is read
// leniently. A ConfigMap keeps its `ca.crt` only.
import type {
  BackendTLSPolicy,
  CaConfigMap,
  SubjectAltName,
} from '../../model/backend-tls-policy.js';
import { coreGroup, defined, statusCondition } from './gateway-api.js';
import { checkMeta } from './meta.js';
import {
  lenient,
  lenientList,
  list,
  map,
  name,
  optMap,
  optStr,
  ShapeError,
  str,
  stringMap,
  type Fields,
} from './reader.js';

export function toBackendTLSPolicy(o: Fields): BackendTLSPolicy {
  const metadata = checkMeta(o, true);
  const spec = map(o.spec, 'spec');
  const v = map(spec.validation, 'spec.validation');
  const hostname = str(v.hostname, 'spec.validation.hostname');
  if (hostname === '') throw new ShapeError('spec.validation.hostname', 'a hostname', hostname);
  const caCertificateRefs = list(
    v.caCertificateRefs,
    'spec.validation.caCertificateRefs',
    (r, p) => {
      const m = map(r, p);
      return {
        group: coreGroup(str(m.group, `${p}.group`)),
        kind: name(m.kind, `${p}.kind`),
        name: name(m.name, `${p}.name`),
      };
    },
  );
  const wellKnownCACertificates = optStr(
    v.wellKnownCACertificates,
    'spec.validation.wellKnownCACertificates',
  );
  if (caCertificateRefs.length === 0 && !wellKnownCACertificates)
    throw new ShapeError(
      'spec.validation',
      'caCertificateRefs or wellKnownCACertificates',
      undefined,
    );
  const subjectAltNames = list(v.subjectAltNames, 'spec.validation.subjectAltNames', (s, p) => {
    const m = map(s, p);
    const type = str(m.type, `${p}.type`);
    if (type === 'Hostname') return { type, value: str(m.hostname, `${p}.hostname`) };
    if (type === 'URI') return { type, value: str(m.uri, `${p}.uri`) };
    throw new ShapeError(`${p}.type`, 'Hostname or URI', type);
  }) as SubjectAltName[];
  const targetRefs = list(spec.targetRefs, 'spec.targetRefs', (t, p) => {
    const m = map(t, p);
    return defined({
      group: coreGroup(str(m.group, `${p}.group`)),
      kind: name(m.kind, `${p}.kind`),
      name: name(m.name, `${p}.name`),
      sectionName: optStr(m.sectionName, `${p}.sectionName`) || undefined,
    });
  });
  const status = lenient(() => optMap(o.status, 'status')) ?? {};
  return {
    metadata,
    spec: {
      targetRefs,
      validation: defined({
        hostname,
        caCertificateRefs,
        wellKnownCACertificates,
        subjectAltNames,
      }),
    },
    status: {
      ancestors: lenientList(status.ancestors, 'status.ancestors', (a, p) => {
        const m = map(a, p);
        const ref = map(m.ancestorRef, `${p}.ancestorRef`);
        return {
          ancestorRef: defined({
            group: optStr(ref.group, `${p}.ancestorRef.group`),
            kind: optStr(ref.kind, `${p}.ancestorRef.kind`),
            namespace: optStr(ref.namespace, `${p}.ancestorRef.namespace`),
            name: str(ref.name, `${p}.ancestorRef.name`),
            sectionName: optStr(ref.sectionName, `${p}.ancestorRef.sectionName`),
          }),
          controllerName: str(m.controllerName, `${p}.controllerName`),
          conditions: lenientList(m.conditions, `${p}.conditions`, statusCondition),
        };
      }),
    },
  };
}

export function toCaConfigMap(o: Fields): CaConfigMap {
  const metadata = checkMeta(o, true);
  const caCrt = stringMap(o.data, 'data')['ca.crt'];
  return caCrt === undefined ? { metadata } : { metadata, caCrt };
}
