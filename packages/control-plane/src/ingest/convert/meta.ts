// metadata of every kind: the fields the control plane reads, checked. Pure.
import type { Meta } from '../../model/gateway-api.js';
import {
  eachMap,
  map,
  name,
  optBool,
  optInt,
  optStr,
  optTime,
  stringMap,
  type Fields,
} from './reader.js';

/**
 * Checks `metadata` and returns it. Namespaced kinds need a namespace (config files get `default`
 * before this).
 */
export function checkMeta(o: Fields, namespaced: boolean): Meta {
  const m = map(o.metadata, 'metadata');
  name(m.name, 'metadata.name');
  if (namespaced) name(m.namespace, 'metadata.namespace');
  else optStr(m.namespace, 'metadata.namespace');
  stringMap(m.labels, 'metadata.labels');
  stringMap(m.annotations, 'metadata.annotations');
  optStr(m.generateName, 'metadata.generateName');
  optStr(m.uid, 'metadata.uid');
  optStr(m.resourceVersion, 'metadata.resourceVersion');
  optInt(m.generation, 'metadata.generation');
  optTime(m.creationTimestamp, 'metadata.creationTimestamp');
  optTime(m.deletionTimestamp, 'metadata.deletionTimestamp');
  eachMap(m.ownerReferences, 'metadata.ownerReferences', (r, p) => {
    optStr(r.kind, `${p}.kind`);
    optStr(r.name, `${p}.name`);
    optBool(r.controller, `${p}.controller`);
  });
  return m as Meta;
}
