import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { ConfigError, helpText } from '@trellis/core';
import { loadZtunnelConfig, parseLogLevels, PROGRAM, SUMMARY, ztunnelSettings } from './config.js';

test('defaults match Istio ztunnel ports and paths', () => {
  const c = loadZtunnelConfig({ argv: [], env: {} });
  assert.equal(c.localConfig, undefined);
  assert.deepEqual(c.adminAddress, { host: '127.0.0.1', port: 15000 });
  assert.deepEqual(c.metricsAddress, { host: '', port: 15020 });
  assert.deepEqual(c.readinessAddress, { host: '', port: 15021 });
  assert.equal(c.zdsSocket, '/var/run/ztunnel/ztunnel.sock');
  assert.equal(c.workers, 2, "upstream ztunnel's default worker threads, whatever the CPU count");
  assert.equal(c.cpuLimit, availableParallelism());
  assert.equal(c.drainTimeout, 5000);
  assert.equal(c.trustDomain, 'cluster.local');
  assert.equal(c.clusterId, 'Kubernetes');
  assert.deepEqual(c.logLevel, { level: 'info', scopes: {} });
  assert.equal(c.proxyMode, 'shared', "upstream's default: the in-pod node proxy");
  assert.equal(c.podNamespace, 'istio-system', "the CA's default trusted node proxy namespace");
});

test('PROXY_MODE takes upstream values and meanings; dedicated needs its workload and address', () => {
  const env = (e: Record<string, string>) => loadZtunnelConfig({ argv: [], env: e });
  assert.equal(env({ PROXY_MODE: 'shared' }).proxyMode, 'shared');
  assert.equal(env({ PROXY_MODE: 'all-workloads' }).proxyMode, 'all-workloads');
  const d = env({
    PROXY_MODE: 'dedicated',
    PROXY_WORKLOAD_INFO: 'prod/web-0/web',
    INSTANCE_IP: '10.0.0.9',
  });
  assert.equal(d.proxyMode, 'dedicated');
  assert.deepEqual(d.proxyWorkloadInfo, {
    namespace: 'prod',
    name: 'web-0',
    serviceAccount: 'web',
  });
  assert.throws(
    () => env({ PROXY_MODE: 'inpod' }),
    (err: ConfigError) =>
      err.problems.some(
        (p) => p.includes('PROXY_MODE') && p.includes('shared, dedicated, all-workloads'),
      ),
  );
  assert.throws(
    () => env({ PROXY_MODE: 'dedicated' }),
    (err: ConfigError) =>
      err.problems.length === 2 &&
      err.problems[0]!.includes('PROXY_WORKLOAD_INFO') &&
      err.problems[1]!.includes('INSTANCE_IP'),
  );
  assert.throws(
    () =>
      env({ PROXY_MODE: 'dedicated', PROXY_WORKLOAD_INFO: 'prod/web-0', INSTANCE_IP: '10.0.0.9' }),
    (err: ConfigError) => err.problems.some((p) => p.includes('namespace/name/service-account')),
  );
});

test('flags win over environment variables, which win over defaults', () => {
  const c = loadZtunnelConfig({
    argv: [
      '--local-config',
      'x.yaml',
      '--admin-address=127.0.0.1:0',
      '--log-level',
      'debug,rbac=trace',
    ],
    env: {
      LOCAL_XDS_PATH: 'ignored.yaml',
      NODE_NAME: 'node-7',
      INSTANCE_IP: '::ffff:10.0.0.7',
      ZTUNNEL_WORKER_THREADS: '4',
      CONNECTION_TERMINATION_DEADLINE: '30s',
    },
  });
  assert.equal(c.localConfig, 'x.yaml');
  assert.deepEqual(c.adminAddress, { host: '127.0.0.1', port: 0 });
  assert.equal(c.nodeName, 'node-7');
  assert.equal(c.podIp, '10.0.0.7');
  assert.equal(c.workers, 4);
  assert.equal(c.drainTimeout, 30_000);
  assert.deepEqual(c.logLevel, { level: 'debug', scopes: { rbac: 'trace' } });
});

test('ZTUNNEL_WORKER_THREADS as upstream: a count, or a percentage of ZTUNNEL_CPU_LIMIT rounded up', () => {
  const workers = (env: Record<string, string>) => loadZtunnelConfig({ argv: [], env }).workers;
  assert.equal(workers({ ZTUNNEL_WORKER_THREADS: '6' }), 6);
  assert.equal(workers({ ZTUNNEL_WORKER_THREADS: '50%', ZTUNNEL_CPU_LIMIT: '8' }), 4);
  assert.equal(workers({ ZTUNNEL_WORKER_THREADS: '30%', ZTUNNEL_CPU_LIMIT: '3' }), 1);
  assert.equal(workers({ ZTUNNEL_WORKER_THREADS: '10%', ZTUNNEL_CPU_LIMIT: '1' }), 1, 'at least 1');
  assert.equal(workers({ ZTUNNEL_WORKER_THREADS: '100%', ZTUNNEL_CPU_LIMIT: '16' }), 16);
  assert.equal(
    workers({ ZTUNNEL_WORKER_THREADS: '100%' }),
    availableParallelism(),
    'without a limit, of the CPUs here',
  );
  for (const [value, why] of [
    ['0%', /a percentage must be above 0 and at most 100/],
    ['150%', /a percentage must be above 0 and at most 100/],
    ['two', /not a count or a percentage/],
    ['300', /a count must be 1-256/],
  ] as const)
    assert.throws(
      () => workers({ ZTUNNEL_WORKER_THREADS: value }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some(
          (p) => p.includes(`ZTUNNEL_WORKER_THREADS: invalid value "${value}"`) && why.test(p),
        ),
      value,
    );
});

test('bad values are all reported, each naming its flag or variable', () => {
  try {
    loadZtunnelConfig({
      argv: [
        '--workers',
        '0',
        '--admin-address',
        'localhost',
        '--trust-domain',
        'Bad_Domain',
        '--bogus',
      ],
      env: { INSTANCE_IP: '10.0.0', LOG_LEVEL: 'loud' },
    });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /unknown flag --bogus/);
    assert.match(text, /--workers: invalid value "0" \(a count must be 1-256\)/);
    assert.match(text, /--admin-address: invalid value "localhost"/);
    assert.match(text, /--trust-domain: invalid value "Bad_Domain"/);
    assert.match(text, /INSTANCE_IP: invalid value "10.0.0" \(not an IP address\)/);
    assert.match(text, /LOG_LEVEL: invalid value "loud" \(unknown log level "loud"/);
  }
});

test('parseLogLevels reads a default level and scope=level entries', () => {
  assert.deepEqual(parseLogLevels('warn'), { level: 'warn', scopes: {} });
  assert.deepEqual(parseLogLevels('rbac=debug, xds=trace'), {
    level: 'info',
    scopes: { rbac: 'debug', xds: 'trace' },
  });
  assert.throws(() => parseLogLevels('info,rbac=chatty'), /unknown log level "chatty"/);
});

test('help lists every setting with its flag and variable', () => {
  const text = helpText(PROGRAM, SUMMARY, ztunnelSettings);
  for (const s of Object.values(ztunnelSettings)) {
    assert.ok(text.includes(s.flag!), s.flag);
    assert.ok(text.includes(s.env!), s.env);
  }
});
