// The mTLS relay pairs the in-pod bench measures in the same topology as the mesh: a client relay
// in node 1's netns (plain TCP in, TLS 1.3 with a client certificate out over the bridge) and a
// server relay in node 2's netns (TLS 1.3 in, client certificate required, plain TCP out to the
// target pod). Pairs: Node.js (tls-relay.mjs), nginx stream, haproxy; the last two only when
// installed. ECDSA P-256 certificates made with openssl in a temp dir; everything is removed by
// stop(). Also: CPU time of process trees from /proc, for relay / ztunnel CPU figures.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RELAY = fileURLToPath(new URL('./tls-relay.mjs', import.meta.url));
const NGX_STREAM = '/usr/lib/nginx/modules/ngx_stream_module.so';
const SERVER_NAME = 'server.anchor.local';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

const which = (cmd) => spawnSync('which', [cmd], { encoding: 'utf8' }).status === 0;

/** CA, server (SAN server.anchor.local) and client certificates, ECDSA P-256, plus haproxy's PEMs. */
function makeCerts(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-subj',
    '/CN=bench-ca',
    '-days',
    '2',
  ]);
  for (const [role, ext] of [
    ['server', `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'subjectAltName=DNS:client.anchor.local\nextendedKeyUsage=clientAuth\n'],
  ]) {
    const csr = join(dir, `${role}.csr`);
    const extFile = join(dir, `${role}.ext`);
    writeFileSync(extFile, ext);
    run('openssl', [
      'req',
      ...ec,
      '-keyout',
      join(dir, `${role}.key`),
      '-out',
      csr,
      '-subj',
      `/CN=${role}.anchor.local`,
    ]);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-CAcreateserial',
      '-out',
      join(dir, `${role}.crt`),
      '-days',
      '2',
      '-extfile',
      extFile,
    ]);
    writeFileSync(
      join(dir, `${role}.pem`),
      readFileSync(join(dir, `${role}.crt`), 'utf8') +
        readFileSync(join(dir, `${role}.key`), 'utf8'),
    );
  }
}

function nginxConf(dir, role, listen, target) {
  const tls =
    role === 'client'
      ? [
          `listen ${listen};`,
          'proxy_ssl on;',
          'proxy_ssl_protocols TLSv1.3;',
          `proxy_ssl_certificate ${dir}/client.crt;`,
          `proxy_ssl_certificate_key ${dir}/client.key;`,
          `proxy_ssl_trusted_certificate ${dir}/ca.crt;`,
          'proxy_ssl_verify on;',
          `proxy_ssl_name ${SERVER_NAME};`,
          'proxy_ssl_server_name on;',
        ]
      : [
          `listen ${listen} ssl;`,
          'ssl_protocols TLSv1.3;',
          `ssl_certificate ${dir}/server.crt;`,
          `ssl_certificate_key ${dir}/server.key;`,
          `ssl_client_certificate ${dir}/ca.crt;`,
          'ssl_verify_client on;',
        ];
  return [
    `load_module ${NGX_STREAM};`,
    'worker_processes 1;',
    'daemon off;',
    `pid ${dir}/ngx-${role}.pid;`,
    `error_log ${dir}/ngx-${role}.err warn;`,
    'events { worker_connections 8192; }',
    'stream { server {',
    ...tls.map((l) => `  ${l}`),
    `  proxy_pass ${target};`,
    '} }',
    '',
  ].join('\n');
}

function haproxyCfg(dir, role, listen, target) {
  const line =
    role === 'client'
      ? [
          `  bind ${listen}`,
          `  server s1 ${target} ssl crt ${dir}/client.pem ca-file ${dir}/ca.crt verify required verifyhost ${SERVER_NAME} sni str(${SERVER_NAME}) ssl-min-ver TLSv1.3`,
        ]
      : [
          `  bind ${listen} ssl crt ${dir}/server.pem ca-file ${dir}/ca.crt verify required ssl-min-ver TLSv1.3`,
          `  server s1 ${target}`,
        ];
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4000',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    `listen ${role}`,
    ...line,
    '',
  ].join('\n');
}

/** How each pair's halves are started: argv (run under `ip netns exec`) for a role. */
const KINDS = [
  {
    name: 'node_tls_pair',
    missing: () => undefined,
    argv: (_dir, role, listen, target, certs) => [
      process.execPath,
      RELAY,
      role,
      listen,
      target,
      certs,
    ],
  },
  {
    name: 'nginx_pair',
    missing: () =>
      !which('nginx')
        ? 'nginx not installed'
        : !existsSync(NGX_STREAM)
          ? `no ${NGX_STREAM} (libnginx-mod-stream)`
          : undefined,
    argv: (dir, role, listen, target) => {
      const conf = join(dir, `ngx-${role}.conf`);
      writeFileSync(conf, nginxConf(dir, role, listen, target));
      return ['nginx', '-e', join(dir, `ngx-${role}.err`), '-p', dir, '-c', conf];
    },
  },
  {
    name: 'haproxy_pair',
    missing: () => (which('haproxy') ? undefined : 'haproxy not installed'),
    argv: (dir, role, listen, target) => {
      const cfg = join(dir, `hap-${role}.cfg`);
      writeFileSync(cfg, haproxyCfg(dir, role, listen, target));
      return ['haproxy', '-db', '-f', cfg];
    },
  },
];

function listening(netns, port) {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], {
    encoding: 'utf8',
  });
  return r.status === 0 && r.stdout.trim() !== '';
}

async function waitListening(netns, port, child, what) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `${what} exited (${child.exitCode ?? child.signalCode}): ${child.stderrText}`,
      );
    if (listening(netns, port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not listening on ${port} in ${netns} after 10 s: ${child.stderrText}`);
}

/** pid, ppid and utime + stime ticks of every live process. */
function processes() {
  const stats = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] = state (field 3)
      stats.push({ pid: Number(e), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited while listing
    }
  }
  return stats;
}

/** The live processes of the trees rooted at `pids`. */
function trees(pids) {
  const stats = processes();
  const inTree = new Set(pids.filter(Boolean));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of stats)
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
  }
  return stats.filter((p) => inTree.has(p.pid));
}

/** The pids of every live process in the trees rooted at `pids`. */
export function treePids(pids) {
  return trees(pids).map((p) => p.pid);
}

/** utime + stime (seconds) of every live process in the trees rooted at `pids`. */
export function treeCpuSeconds(pids) {
  return trees(pids).reduce((sum, p) => sum + p.ticks, 0) / CLK_TCK;
}

/** SIGTERM to each relay's root (nginx's master stops its worker), SIGKILL after 5 s. */
async function killTrees(children) {
  const alive = (c) => c.exitCode === null && c.signalCode === null;
  for (const c of children) if (alive(c)) c.kill('SIGTERM');
  for (let i = 0; i < 50 && children.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const c of children) if (alive(c)) c.kill('SIGKILL');
  await Promise.all(children.filter(alive).map((c) => new Promise((r) => c.once('exit', r))));
}

/**
 * Starts every available pair: client halves listen on `clientNode.ip`, server halves on
 * `serverNode.ip`, and forward to `target` (host:port). Returns { pairs, skipped, stop }; each pair
 * has name, host, port (where the client connects) and pids (client half, server half).
 */
export async function startRelayPairs(clientNode, serverNode, target, { basePort = 16000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-relays-'));
  const children = [];
  const pairs = [];
  const skipped = [];
  const stop = async () => {
    await killTrees(children);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    makeCerts(dir);
    for (const [i, kind] of KINDS.entries()) {
      const why = kind.missing();
      if (why) {
        skipped.push(`${kind.name}: ${why}`);
        continue;
      }
      const cPort = basePort + 1 + i;
      const sPort = basePort + 101 + i;
      const halves = [
        [serverNode, 'server', `${serverNode.ip}:${sPort}`, target, sPort],
        [clientNode, 'client', `${clientNode.ip}:${cPort}`, `${serverNode.ip}:${sPort}`, cPort],
      ];
      const pids = [];
      for (const [node, role, listen, to, port] of halves) {
        const child = spawn(
          'ip',
          ['netns', 'exec', node.netns, ...kind.argv(dir, role, listen, to, dir)],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        child.stderrText = '';
        child.stderr.on('data', (d) => (child.stderrText += d));
        children.push(child);
        pids.unshift(child.pid); // client half first
        await waitListening(node.netns, port, child, `${kind.name} ${role}`);
      }
      pairs.push({ name: kind.name, host: clientNode.ip, port: cPort, pids });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { pairs, skipped, stop };
}
