// The benchmark's mesh, all inside one network namespace of its own (so its ports never meet other
// work on the host): the real trellis-control-plane (config dir; embedded CA and xDS on 15012),
// two trellis-ztunnel in all-workloads mode (A: the client side, B: the backend side), trellis-waypoint,
// an nginx static backend and nginx as a reverse proxy (the baseline); with `ingress`, also
// trellis-waypoint --role gateway for a Gateway of class trellis (HTTPS, certificate from a Secret,
// an HTTPRoute to the backend's Service: into the mesh over HBONE to ztunnel B) and nginx
// terminating the same TLS and proxying to the backend (its baseline). Addresses are 127.x
// loopback addresses inside the namespace; the client "pod" is 127.0.0.1 (what wrk connects
// from), so ztunnel A finds it by source IP.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = (rel) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));
/** The mesh's Node.js processes run with the V8 options their pods get (BENCH_NODE_OPTIONS: others). */
const { COMPONENT_NODE_OPTIONS } = await import(pkg('control-plane/dist/model/runtime.js'));
export const NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? COMPONENT_NODE_OPTIONS;
/** The programs the images run (one bundled file each, see tools/bundle.mjs). */
export const MAINS = {
  controlPlane: pkg('control-plane/dist/trellis-control-plane.mjs'),
  // BENCH_ZTUNNEL_MAIN, BENCH_WAYPOINT_MAIN: another build (e.g. a copy of the base commit's
  // bundles, next to them so that the native addon resolves; or dist/main.js unbundled) for A/B runs.
  ztunnel: process.env.BENCH_ZTUNNEL_MAIN ?? pkg('ztunnel/dist/trellis-ztunnel.mjs'),
  waypoint: process.env.BENCH_WAYPOINT_MAIN ?? pkg('waypoint/dist/trellis-waypoint.mjs'),
};

export const ADDR = {
  backend: '127.0.20.1',
  backendPort: 8080,
  waypoint: '127.0.30.1',
  viaWaypointVip: '127.0.100.1',
  directVip: '127.0.100.2',
  nginxProxy: '127.0.40.1',
  nginxTls: '127.0.41.1',
  /** The nginx mTLS stream pair (anchor of mesh_l4): client side, server side. */
  nginxL4: '127.0.42.1',
  nginxL4Server: '127.0.42.2',
  gateway: '127.0.60.1',
};

/** The host name the ingress gateway's certificate is for (wrk sends it as SNI). */
export const INGRESS_HOST = 'bench.example.com';

/** The name the nginx mTLS pair's server side has a certificate for (its client verifies it). */
export const ANCHOR_L4_HOST = 'anchor.bench.local';

const NS = 'bench';

function ingressManifests(cert) {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-cert', namespace: NS },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(cert.certChain).toString('base64'),
        'tls.key': Buffer.from(cert.privateKey).toString('base64'),
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'ingress', namespace: NS },
      spec: {
        gatewayClassName: 'trellis',
        listeners: [
          {
            name: 'https',
            port: 443,
            protocol: 'HTTPS',
            hostname: INGRESS_HOST,
            tls: { mode: 'Terminate', certificateRefs: [{ name: 'bench-cert' }] },
          },
        ],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'ingress', namespace: NS },
      spec: {
        parentRefs: [{ name: 'ingress' }],
        rules: [{ backendRefs: [{ name: 'echo-direct', port: 80 }] }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'ingress-0',
        namespace: NS,
        labels: { 'gateway.networking.k8s.io/gateway-name': 'ingress' },
      },
      spec: {
        serviceAccountName: 'ingress-trellis',
        nodeName: 'bench-node',
        containers: [{ name: 'c', image: 'gateway' }],
      },
      status: {
        phase: 'Running',
        podIP: ADDR.gateway,
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    },
  ];
}

function manifests() {
  const pod = (name, ip, sa, labels = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      serviceAccountName: sa,
      nodeName: 'bench-node',
      containers: [{ name: 'c', image: name }],
    },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const svc = (name, vip, selector, labels = {}, port = 80, targetPort = ADDR.backendPort) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, labels },
    spec: { selector, clusterIP: vip, ports: [{ name: 'http', port, targetPort }] },
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'istio.io/dataplane-mode': 'ambient' } },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: NS },
      spec: {
        gatewayClassName: 'trellis-waypoint',
        listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'waypoint', namespace: NS },
      spec: {
        selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' },
        clusterIP: '127.0.99.1',
        ports: [{ name: 'mesh', port: 15008 }],
      },
    },
    pod('waypoint-0', ADDR.waypoint, 'waypoint', {
      'gateway.networking.k8s.io/gateway-name': 'waypoint',
      'istio.io/dataplane-mode': 'none',
    }),
    pod('client-0', '127.0.0.1', 'client', { app: 'client' }),
    pod('echo-0', ADDR.backend, 'echo', { app: 'echo' }),
    svc('echo', ADDR.viaWaypointVip, { app: 'echo' }, { 'istio.io/use-waypoint': 'waypoint' }),
    svc('echo-direct', ADDR.directVip, { app: 'echo' }),
  ];
}

function tokens() {
  return [
    {
      token: 'ztunnel-token',
      namespace: 'istio-system',
      serviceAccount: 'ztunnel',
      node: 'bench-node',
    },
    { token: 'waypoint-token', namespace: NS, serviceAccount: 'waypoint', node: 'bench-node' },
    { token: 'client-token', namespace: NS, serviceAccount: 'client', node: 'bench-node' },
    { token: 'echo-token', namespace: NS, serviceAccount: 'echo', node: 'bench-node' },
    {
      token: 'ingress-token',
      namespace: NS,
      serviceAccount: 'ingress-trellis',
      node: 'bench-node',
    },
  ];
}

/** A process inside the namespace, pinned to `cpus`; stdout lines kept (bounded). */
export function spawnIn(netns, name, cpus, cmd, args, opts = {}) {
  const node = cmd === process.execPath ? { NODE_OPTIONS } : {};
  const extra =
    cmd === process.execPath ? (process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []) : [];
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, 'taskset', '-c', cpus, cmd, ...extra, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...node, ...(opts.env ?? {}) },
    },
  );
  const lines = [];
  const keep = (d) => {
    for (const l of String(d).split('\n')) if (l.trim() !== '') lines.push(l);
    if (lines.length > 2000) lines.splice(0, lines.length - 1000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { name, child, lines, pid: child.pid };
}

/** A command in the namespace, pinned to `cpus`; resolves with its stdout once it exits 0. */
export function runIn(netns, cpus, cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, 'taskset', '-c', cpus, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd}: ${code}: ${err || out}`)),
    );
  });
}

export async function waitUntil(what, check, proc, attempts = 600) {
  for (let i = 0; i < attempts; i++) {
    if (proc && proc.child.exitCode !== null)
      throw new Error(
        `${what}: ${proc.name} exited (${proc.child.exitCode}): ${proc.lines.slice(-10).join('\n')}`,
      );
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `gave up waiting for ${what}${proc ? `: ${proc.lines.slice(-10).join('\n')}` : ''}`,
  );
}

/** GET url from inside the namespace (curl; HTTPS not verified), resolving with the status code. */
export function curlIn(netns, url) {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '2',
      '-k',
      url,
    ],
    { encoding: 'utf8' },
  );
  return Number(r.stdout || '0');
}

/**
 * `ingress`: a certificate ({ certChain, privateKey }) for INGRESS_HOST to add the ingress
 * gateway and nginx terminating TLS. `anchorL4` ({ ca, server, client }: a CA certificate, and a
 * server certificate for ANCHOR_L4_HOST and a client certificate it issued): adds the shared
 * anchors' nginx mTLS stream pair (origination, then termination with the client certificate
 * verified), what two ztunnels do without HBONE, in native code.
 */
export async function startMesh({
  proxyCpus,
  sideCpus,
  waypointArgs = [],
  waypointNodeArgs = [],
  ingress,
  anchorL4,
}) {
  const netns = `wpbench${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `trellis-wpbench-${process.pid}-`));
  const procs = [];
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  run('ip', ['netns', 'add', netns]);
  // `ip netns exec` mounts /etc/netns/<name>/hosts over /etc/hosts: wrk and h2load send the
  // ingress host name as SNI and Host.
  const etc = `/etc/netns/${netns}`;
  const close = async () => {
    // The waypoint first, gently (so a --cpu-prof profile gets written).
    const wp = procs.find((p) => p.name === 'waypoint');
    if (wp && wp.child.exitCode === null) {
      wp.child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(r, 5000);
        wp.child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    // SIGTERM first: an nginx master killed outright leaves its worker running (holding our
    // pipes, so this process would never exit) in a namespace no longer named.
    const exited = (p) =>
      p.child.exitCode !== null || p.child.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => p.child.once('exit', r));
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(procs.map(exited)), new Promise((r) => setTimeout(r, 3000))]);
    for (const p of procs.reverse()) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    spawnSync('ip', ['netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(etc, { recursive: true, force: true });
  };
  try {
    run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
    const cfg = join(dir, 'config');
    mkdirSync(cfg);
    writeFileSync(
      join(cfg, 'mesh.json'),
      JSON.stringify(
        {
          apiVersion: 'v1',
          kind: 'List',
          items: [...manifests(), ...(ingress ? ingressManifests(ingress) : [])],
        },
        null,
        1,
      ),
    );
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens()));
    for (const t of tokens()) writeFileSync(join(dir, `${t.token}`), t.token);
    writeFileSync(join(dir, 'body.txt'), 'x'.repeat(1024));
    mkdirSync(join(dir, 'run'));
    writeFileSync(
      join(dir, 'ngx-static.conf'),
      `user root; worker_processes 1; daemon off; error_log ${dir}/run/static.err; pid ${dir}/run/static.pid;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000; sendfile on; open_file_cache max=16;
  client_body_temp_path ${dir}/run; proxy_temp_path ${dir}/run; fastcgi_temp_path ${dir}/run; uwsgi_temp_path ${dir}/run; scgi_temp_path ${dir}/run;
  server { listen ${ADDR.backend}:${ADDR.backendPort}; root ${dir}; location / { default_type text/plain; try_files /body.txt =404; } } }\n`,
    );
    writeFileSync(
      join(dir, 'ngx-rproxy.conf'),
      `worker_processes 1; daemon off; error_log ${dir}/run/rproxy.err; pid ${dir}/run/rproxy.pid;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000;
  client_body_temp_path ${dir}/run; proxy_temp_path ${dir}/run; fastcgi_temp_path ${dir}/run; uwsgi_temp_path ${dir}/run; scgi_temp_path ${dir}/run;
  upstream be { server ${ADDR.backend}:${ADDR.backendPort}; keepalive 64; keepalive_requests 10000000; }
  server { listen ${ADDR.nginxProxy}:80; location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`,
    );
    const backend = spawnIn(netns, 'nginx-backend', sideCpus, 'nginx', [
      '-c',
      join(dir, 'ngx-static.conf'),
    ]);
    procs.push(backend);
    const nginx = spawnIn(netns, 'nginx-rproxy', proxyCpus, 'nginx', [
      '-c',
      join(dir, 'ngx-rproxy.conf'),
    ]);
    procs.push(nginx);
    const cp = spawnIn(netns, 'control-plane', sideCpus, process.execPath, [
      MAINS.controlPlane,
      '--config-dir',
      cfg,
      '--ca-dir',
      join(dir, 'ca'),
      '--static-tokens',
      join(dir, 'tokens.json'),
      '--secure-xds-address',
      '127.0.0.1:15012',
      '--xds-address',
      '127.0.0.1:15010',
      '--debug-address',
      '127.0.0.1:15014',
      '--hbone-requires-redirection=false',
    ]);
    procs.push(cp);
    await waitUntil(
      'control plane /ready',
      () => curlIn(netns, 'http://127.0.0.1:15014/ready') === 200,
      cp,
    );
    const root = join(dir, 'ca', 'root-cert.pem');
    // How every proxy reaches the control plane (xDS and CA) and proves who it is.
    const controlPlaneArgs = (token) => [
      '--xds-address',
      '127.0.0.1:15012',
      '--ca-address',
      '127.0.0.1:15012',
      '--ca-root-cert',
      root,
      '--token-path',
      join(dir, token),
    ];
    const ztunnel = (name, n) =>
      spawnIn(netns, name, proxyCpus, process.execPath, [
        MAINS.ztunnel,
        '--proxy-mode',
        'all-workloads',
        '--workers',
        '1',
        ...controlPlaneArgs('ztunnel-token'),
        '--pod-ip',
        `127.0.5${n}.1`,
        '--pod-name',
        name,
        '--pod-namespace',
        'istio-system',
        '--service-account',
        'ztunnel',
        '--node-name',
        'bench-node',
        '--outbound-address',
        n === 1 ? `${ADDR.viaWaypointVip}:80` : '127.0.52.1:15001',
        '--inbound-address',
        n === 1 ? '127.0.51.1:15008' : `${ADDR.backend}:15008`,
        '--inbound-plaintext-address',
        `127.0.5${n}.1:15006`,
        '--admin-address',
        `127.0.5${n}.1:15000`,
        '--metrics-address',
        `127.0.5${n}.1:15020`,
        '--readiness-address',
        `127.0.5${n}.1:15021`,
        '--log-level',
        'warn',
      ]);
    const ztA = ztunnel('ztunnel-a', 1);
    const ztB = ztunnel('ztunnel-b', 2);
    // A second outbound listener for the no-waypoint service: ztunnel A on the direct VIP too.
    const ztA2 = spawnIn(netns, 'ztunnel-a2', proxyCpus, process.execPath, [
      MAINS.ztunnel,
      '--proxy-mode',
      'all-workloads',
      '--workers',
      '1',
      ...controlPlaneArgs('ztunnel-token'),
      '--pod-ip',
      '127.0.53.1',
      '--pod-name',
      'ztunnel-a2',
      '--pod-namespace',
      'istio-system',
      '--service-account',
      'ztunnel',
      '--node-name',
      'bench-node',
      '--outbound-address',
      `${ADDR.directVip}:80`,
      '--inbound-address',
      '127.0.53.1:15008',
      '--inbound-plaintext-address',
      '127.0.53.1:15006',
      '--admin-address',
      '127.0.53.1:15000',
      '--metrics-address',
      '127.0.53.1:15020',
      '--readiness-address',
      '127.0.53.1:15021',
      '--log-level',
      'warn',
    ]);
    procs.push(ztA, ztB, ztA2);
    // The waypoint and the ingress gateway: one engine, two roles.
    const l7proxy = (name, { role, ip, pod, sa, gateway, admin, extra }) =>
      spawnIn(netns, name, proxyCpus, process.execPath, [
        ...(process.env.BENCH_WAYPOINT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        ...waypointNodeArgs,
        MAINS.waypoint,
        '--role',
        role,
        ...controlPlaneArgs(`${gateway}-token`),
        '--pod-ip',
        ip,
        '--pod-name',
        pod,
        '--pod-namespace',
        NS,
        '--service-account',
        sa,
        '--gateway-name',
        gateway,
        '--admin-address',
        admin,
        '--metrics-address',
        `${ip}:15020`,
        '--readiness-address',
        `${ip}:15021`,
        '--log-level',
        'warn',
        ...extra,
        ...waypointArgs,
      ]);
    const waypoint = l7proxy('waypoint', {
      role: 'waypoint',
      ip: ADDR.waypoint,
      pod: 'waypoint-0',
      sa: 'waypoint',
      gateway: 'waypoint',
      admin: '127.0.0.1:15000',
      extra: ['--hbone-address', `${ADDR.waypoint}:15008`],
    });
    procs.push(waypoint);
    const ready = [
      [ztA, 'http://127.0.51.1:15021/healthz/ready'],
      [ztB, 'http://127.0.52.1:15021/healthz/ready'],
      [ztA2, 'http://127.0.53.1:15021/healthz/ready'],
      [waypoint, `http://${ADDR.waypoint}:15021/healthz/ready`],
    ];
    let gateway;
    let nginxTls;
    if (ingress) {
      gateway = l7proxy('gateway', {
        role: 'gateway',
        ip: ADDR.gateway,
        pod: 'ingress-0',
        sa: 'ingress-trellis',
        gateway: 'ingress',
        admin: '127.0.0.1:15001',
        extra: ['--listener-host', ADDR.gateway],
      });
      procs.push(gateway);
      mkdirSync(etc, { recursive: true });
      writeFileSync(
        join(etc, 'hosts'),
        `127.0.0.1 localhost\n${ADDR.gateway} ${INGRESS_HOST}\n${ADDR.nginxTls} nginx.${INGRESS_HOST}\n`,
      );
      ready.push([gateway, `http://${ADDR.gateway}:15021/healthz/ready`]);
      writeFileSync(join(dir, 'tls.crt'), ingress.certChain);
      writeFileSync(join(dir, 'tls.key'), ingress.privateKey);
      writeFileSync(
        join(dir, 'ngx-tls.conf'),
        `worker_processes 1; daemon off; error_log ${dir}/run/tls.err; pid ${dir}/run/tls.pid;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000;
  client_body_temp_path ${dir}/run; proxy_temp_path ${dir}/run; fastcgi_temp_path ${dir}/run; uwsgi_temp_path ${dir}/run; scgi_temp_path ${dir}/run;
  upstream be { server ${ADDR.backend}:${ADDR.backendPort}; keepalive 64; keepalive_requests 10000000; }
  server { listen ${ADDR.nginxTls}:443 ssl; ssl_protocols TLSv1.3; ssl_certificate ${dir}/tls.crt; ssl_certificate_key ${dir}/tls.key;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`,
      );
      nginxTls = spawnIn(netns, 'nginx-tls', proxyCpus, 'nginx', ['-c', join(dir, 'ngx-tls.conf')]);
      procs.push(nginxTls);
    }
    let nginxL4;
    let nginxL4Server;
    if (anchorL4) {
      const file = (name, text) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const ca = file('l4-ca.crt', anchorL4.ca);
      const stream = (name, server) =>
        file(
          `ngx-${name}.conf`,
          `worker_processes 1; daemon off; error_log ${dir}/run/${name}.err; pid ${dir}/run/${name}.pid;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
events { worker_connections 8192; }
stream { server { ${server} } }\n`,
        );
      const client = stream(
        'l4-client',
        `listen ${ADDR.nginxL4}:80; proxy_pass ${ADDR.nginxL4Server}:15008; proxy_ssl on; proxy_ssl_protocols TLSv1.3;
  proxy_ssl_certificate ${file('l4-client.crt', anchorL4.client.certChain)}; proxy_ssl_certificate_key ${file('l4-client.key', anchorL4.client.privateKey)};
  proxy_ssl_trusted_certificate ${ca}; proxy_ssl_verify on; proxy_ssl_name ${ANCHOR_L4_HOST};`,
      );
      const server = stream(
        'l4-server',
        `listen ${ADDR.nginxL4Server}:15008 ssl; ssl_protocols TLSv1.3;
  ssl_certificate ${file('l4-server.crt', anchorL4.server.certChain)}; ssl_certificate_key ${file('l4-server.key', anchorL4.server.privateKey)};
  ssl_client_certificate ${ca}; ssl_verify_client on; proxy_pass ${ADDR.backend}:${ADDR.backendPort};`,
      );
      nginxL4 = spawnIn(netns, 'nginx-l4-client', proxyCpus, 'nginx', ['-c', client]);
      nginxL4Server = spawnIn(netns, 'nginx-l4-server', proxyCpus, 'nginx', ['-c', server]);
      procs.push(nginxL4, nginxL4Server);
    }
    for (const [p, url] of ready) {
      await waitUntil(`${p.name} ready`, () => curlIn(netns, url) === 200, p);
    }
    await waitUntil(
      'nginx backend',
      () => curlIn(netns, `http://${ADDR.backend}:${ADDR.backendPort}/`) === 200,
      backend,
    );
    await waitUntil(
      'nginx rproxy',
      () => curlIn(netns, `http://${ADDR.nginxProxy}/`) === 200,
      nginx,
    );
    await waitUntil(
      'mesh path via the waypoint',
      () => curlIn(netns, `http://${ADDR.viaWaypointVip}/`) === 200,
      waypoint,
    );
    await waitUntil(
      'mesh path without waypoint',
      () => curlIn(netns, `http://${ADDR.directVip}/`) === 200,
      ztA2,
    );
    if (ingress) {
      for (const [p, host] of [
        [gateway, INGRESS_HOST],
        [nginxTls, `nginx.${INGRESS_HOST}`],
      ])
        await waitUntil(
          `https through ${p.name}`,
          () => curlIn(netns, `https://${host}/`) === 200,
          p,
        );
    }
    if (anchorL4)
      await waitUntil(
        'the nginx mTLS pair',
        () => curlIn(netns, `http://${ADDR.nginxL4}/`) === 200,
        nginxL4,
      );
    // nginx does the work in its worker, a child of the master we started.
    const worker = (master) => {
      const r = spawnSync('pgrep', ['-P', String(master.pid)], { encoding: 'utf8' });
      return { ...master, pid: Number(r.stdout.trim().split('\n')[0]) };
    };
    return {
      netns,
      dir,
      procs: {
        backend: worker(backend),
        nginx: worker(nginx),
        cp,
        ztA,
        ztB,
        ztA2,
        waypoint,
        ...(ingress ? { gateway, nginxTls: worker(nginxTls) } : {}),
        ...(anchorL4 ? { nginxL4: worker(nginxL4), nginxL4Server: worker(nginxL4Server) } : {}),
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** utime+stime of a process in seconds. */
export function cpuSeconds(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** utime and stime of a process in seconds: its own code, and the kernel working for it. */
export function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 };
}

/**
 * Milliseconds the process's threads have spent runnable but waiting for a CPU (schedstat's
 * run-queue time, summed over threads; a thread that has exited is no longer counted).
 */
export function runQueueMs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return ns / 1e6;
}

/** VmRSS in MiB. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
