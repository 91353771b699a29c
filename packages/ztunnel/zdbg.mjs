import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { startTestCa } from './dist/proxy/test-support.js';
const afters = []; const t = { after: (f) => afters.push(f) };
const ca = await startTestCa(t);
const workers = process.argv[2] ?? '1';
const dir = mkdtempSync(join(tmpdir(), 'zdbg-'));
writeFileSync(join(dir, 'local.yaml'), `workloads:
  - { uid: Kubernetes//Pod/default/a, name: a, namespace: default, serviceAccount: a, workloadIps: [127.0.40.1], node: node-1 }
  - { uid: Kubernetes//Pod/default/b, name: b, namespace: default, serviceAccount: b, workloadIps: [127.0.50.1], node: node-2 }
`);
writeFileSync(join(dir, 'root.pem'), ca.rootPem); writeFileSync(join(dir, 'token'), 'tok-zt2');
const child = spawn(process.execPath, ['dist/main.js', '--proxy-mode', 'shared', '--workers', workers, '--local-config', join(dir, 'local.yaml'),
  '--ca-address', ca.address, '--ca-root-cert', join(dir, 'root.pem'), '--token-path', join(dir, 'token'), '--pod-namespace', 'trellis-system',
  '--inbound-address', '127.0.50.1:0', '--outbound-address', '127.0.0.1:0', '--inbound-plaintext-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0',
  '--metrics-address', '127.0.0.1:0', '--readiness-address', '127.0.0.1:0', '--drain-timeout', '300ms', '--log-level', process.argv[3] ?? 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
let inbound;
const lines = [];
for await (const line of createInterface({ input: child.stdout })) { const l = JSON.parse(line); lines.push(l); if (l.msg === 'shared proxies listening') { inbound = l.ports.inbound; break; } }
child.stdout.on('data', (d) => { for (const x of d.toString().trim().split('\n')) try { lines.push(JSON.parse(x)) } catch {} });
const cert = await ca.certificate('spiffe://cluster.local/ns/default/sa/a', 'tok-a');
const sock = tls.connect({ host: '127.0.50.1', port: inbound, key: cert.key, cert: cert.chain.join(''), ca: ca.rootPem, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: '' });
await new Promise((r, j) => { sock.once('secureConnect', r); sock.once('error', j); });
console.log('tls ok', sock.alpnProtocol);
if (process.argv[4] !== 'nopreface') sock.write('PRI * HTTP/2.0\r\n');
sock.on('error', () => {}); sock.on('close', () => console.log('client closed'));
await new Promise(r => setTimeout(r, 500));
const t0 = Date.now();
child.kill('SIGTERM');
const timer = setTimeout(() => { console.log('STILL RUNNING after 10s', lines.filter(l => l.level !== 'info' || /shut|drain|hook/.test(l.msg))); child.kill('SIGKILL'); }, 10000);
child.on('exit', (code, sig) => { clearTimeout(timer); console.log('exit', code, sig, Date.now() - t0, lines.slice(-4).map(l => l.msg)); sock.destroy(); for (const f of afters.reverse()) f(); setTimeout(() => process.exit(0), 200); });
