// networking.istio.io DestinationRule: raw object -> typed record (model/istio-networking.ts).
// `spec.host`, `spec.trafficPolicy` (with `tls` and `portLevelSettings`) and the subset names are
// read; a field of the wrong type
// rejects the object (naming the field). Durations and enumerations are kept as written and
// reported where they are used. Pure.
import type {
  ClientTls,
  PortTrafficPolicy,
  ConsistentHash,
  DestinationRule,
  TrafficPolicy,
} from '../../model/istio-networking.js';
import { checkMeta } from './meta.js';
import {
  list,
  map,
  name,
  optBool,
  optInt,
  optMap,
  optStr,
  ShapeError,
  type Fields,
} from './reader.js';

/** `{...}` without its undefined entries (the typed records hold only what was written). */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** A map that is present (else undefined), read by `read`. */
function opt<T>(v: unknown, path: string, read: (m: Fields, path: string) => T): T | undefined {
  return v === undefined ? undefined : read(map(v, path), path);
}

function consistentHash(m: Fields, p: string): ConsistentHash {
  return defined({
    httpHeaderName: optStr(m.httpHeaderName, `${p}.httpHeaderName`),
    httpCookie: opt(m.httpCookie, `${p}.httpCookie`, (c, q) =>
      defined({
        name: name(c.name, `${q}.name`),
        path: optStr(c.path, `${q}.path`),
        ttl: optStr(c.ttl, `${q}.ttl`),
      }),
    ),
    useSourceIp: optBool(m.useSourceIp, `${p}.useSourceIp`),
    httpQueryParameterName: optStr(m.httpQueryParameterName, `${p}.httpQueryParameterName`),
    ringHash: opt(m.ringHash, `${p}.ringHash`, (r, q) =>
      defined({ minimumRingSize: optInt(r.minimumRingSize, `${q}.minimumRingSize`) }),
    ),
    maglev: opt(m.maglev, `${p}.maglev`, (r, q) =>
      defined({ tableSize: optInt(r.tableSize, `${q}.tableSize`) }),
    ),
    minimumRingSize: optInt(m.minimumRingSize, `${p}.minimumRingSize`),
  });
}

function clientTls(m: Fields, p: string): ClientTls {
  return defined({
    mode: optStr(m.mode, `${p}.mode`) ?? 'DISABLE',
    sni: optStr(m.sni, `${p}.sni`),
    caCertificates: optStr(m.caCertificates, `${p}.caCertificates`),
    clientCertificate: optStr(m.clientCertificate, `${p}.clientCertificate`),
    privateKey: optStr(m.privateKey, `${p}.privateKey`),
    credentialName: optStr(m.credentialName, `${p}.credentialName`),
    subjectAltNames: list(m.subjectAltNames, `${p}.subjectAltNames`, (v, q) => name(v, q)),
    insecureSkipVerify: optBool(m.insecureSkipVerify, `${p}.insecureSkipVerify`),
  });
}

function portTrafficPolicy(m: Fields, p: string): PortTrafficPolicy & { port: number } {
  const number = optMap(m.port, `${p}.port`).number;
  const port = optInt(number, `${p}.port.number`);
  if (port === undefined || port < 1 || port > 65535)
    throw new ShapeError(`${p}.port.number`, 'a port number (1-65535)', number);
  const { loadBalancer, connectionPool, outlierDetection, tls } = trafficPolicy(m, p);
  return defined({ port, loadBalancer, connectionPool, outlierDetection, tls });
}

function trafficPolicy(m: Fields, p: string): TrafficPolicy {
  return defined({
    tls: opt(m.tls, `${p}.tls`, clientTls),
    portLevelSettings:
      m.portLevelSettings === undefined
        ? undefined
        : list(m.portLevelSettings, `${p}.portLevelSettings`, (v, q) =>
            portTrafficPolicy(map(v, q), q),
          ),
    loadBalancer: opt(m.loadBalancer, `${p}.loadBalancer`, (lb, q) =>
      defined({
        simple: optStr(lb.simple, `${q}.simple`),
        consistentHash: opt(lb.consistentHash, `${q}.consistentHash`, consistentHash),
      }),
    ),
    connectionPool: opt(m.connectionPool, `${p}.connectionPool`, (cp, q) =>
      defined({
        tcp: opt(cp.tcp, `${q}.tcp`, (t, r) =>
          defined({
            maxConnections: optInt(t.maxConnections, `${r}.maxConnections`),
            connectTimeout: optStr(t.connectTimeout, `${r}.connectTimeout`),
          }),
        ),
        http: opt(cp.http, `${q}.http`, (h, r) =>
          defined({
            http1MaxPendingRequests: optInt(
              h.http1MaxPendingRequests,
              `${r}.http1MaxPendingRequests`,
            ),
            http2MaxRequests: optInt(h.http2MaxRequests, `${r}.http2MaxRequests`),
            maxRequestsPerConnection: optInt(
              h.maxRequestsPerConnection,
              `${r}.maxRequestsPerConnection`,
            ),
            maxRetries: optInt(h.maxRetries, `${r}.maxRetries`),
            idleTimeout: optStr(h.idleTimeout, `${r}.idleTimeout`),
          }),
        ),
      }),
    ),
    outlierDetection: opt(m.outlierDetection, `${p}.outlierDetection`, (od, q) =>
      defined({
        consecutive5xxErrors: optInt(od.consecutive5xxErrors, `${q}.consecutive5xxErrors`),
        consecutiveGatewayErrors: optInt(
          od.consecutiveGatewayErrors,
          `${q}.consecutiveGatewayErrors`,
        ),
        consecutiveLocalOriginFailures: optInt(
          od.consecutiveLocalOriginFailures,
          `${q}.consecutiveLocalOriginFailures`,
        ),
        splitExternalLocalOriginErrors: optBool(
          od.splitExternalLocalOriginErrors,
          `${q}.splitExternalLocalOriginErrors`,
        ),
        interval: optStr(od.interval, `${q}.interval`),
        baseEjectionTime: optStr(od.baseEjectionTime, `${q}.baseEjectionTime`),
        maxEjectionPercent: optInt(od.maxEjectionPercent, `${q}.maxEjectionPercent`),
        minHealthPercent: optInt(od.minHealthPercent, `${q}.minHealthPercent`),
      }),
    ),
  });
}

export function toDestinationRule(o: Fields): DestinationRule {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  return {
    metadata,
    spec: {
      host: name(spec.host, 'spec.host'),
      trafficPolicy: trafficPolicy(
        optMap(spec.trafficPolicy, 'spec.trafficPolicy'),
        'spec.trafficPolicy',
      ),
      subsets: list(spec.subsets, 'spec.subsets', (v, q) => name(map(v, q).name, `${q}.name`)),
    },
  };
}
