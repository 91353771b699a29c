// The spawned trellis-ztunnel with its admin server on every address, inside a network namespace
// of the test's own (root): a warning at start-up; from an address other than loopback reading
// works but POST /logging and /quitquitquit are refused, unless --admin-allow-remote-changes.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../trellis-ztunnel.mjs', import.meta.url));
const ROOT_PEM = fileURLToPath(new URL('../../testdata/root-cert.pem', import.meta.url));
const NETNS = `zt-admin-${process.pid}`;
const REMOTE_IP = `10.253.${process.pid % 250}.1`;
const notRoot = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : false;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A namespace with loopback up and REMOTE_IP on it, deleted after the test. */
function netns(t: TestContext): void {
  ip('netns', 'add', NETNS);
  t.after(() => ip('netns', 'del', NETNS));
  ip('-n', NETNS, 'link', 'set', 'lo', 'up');
  ip('-n', NETNS, 'addr', 'add', `${REMOTE_IP}/32`, 'dev', 'lo');
}

async function startZtunnel(t: TestContext, extra: string[]) {
  const child = spawn(
    'ip',
    [
      ...['netns', 'exec', NETNS, process.execPath, MAIN],
      ...['--ca-root-cert', ROOT_PEM, '--zds-socket', '/nonexistent/ztunnel.sock'],
      ...['--admin-address', '0.0.0.0:0', '--metrics-address', '127.0.0.1:0'],
      ...['--readiness-address', '127.0.0.1:0', '--workers', '1', ...extra],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const lines: Record<string, unknown>[] = [];
  for await (const raw of createInterface({ input: child.stdout })) {
    const line = JSON.parse(raw) as Record<string, unknown>;
    lines.push(line);
    if (line.msg === 'trellis-ztunnel started') break;
  }
  const started = lines.at(-1) as { adminPort?: number } | undefined;
  assert.ok(started?.adminPort, 'trellis-ztunnel started');
  return { port: started.adminPort, lines };
}

/** Requests made inside the namespace from `from`, answered as [status, body]. */
function requests(port: number, from: string, calls: [string, string][]): [number, string][] {
  const script = `
    const http = require('node:http');
    const one = ([method, path]) => new Promise((resolve, reject) => {
      const req = http.request({ host: ${JSON.stringify(from)}, localAddress: ${JSON.stringify(from)},
        port: ${port}, method, path }, (res) => {
        let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => resolve([res.statusCode, body]));
      });
      req.on('error', reject); req.end();
    });
    (async () => { const out = []; for (const c of ${JSON.stringify(calls)}) out.push(await one(c));
      process.stdout.write(JSON.stringify(out)); })();`;
  const out = execFileSync('ip', ['netns', 'exec', NETNS, process.execPath, '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as [number, string][];
}

test(
  'admin on every address: a warning, reads from anywhere, changes from localhost only',
  { skip: notRoot },
  async (t) => {
    netns(t);
    const z = await startZtunnel(t, []);
    const warning = z.lines.find((l) => l.level === 'warn');
    assert.match(String(warning?.msg), /admin server listens beyond localhost/);

    const remote = requests(z.port, REMOTE_IP, [
      ['GET', '/config_dump'],
      ['POST', '/logging?level=debug'],
      ['POST', '/quitquitquit'],
    ]);
    assert.equal(remote[0]![0], 200, 'reading is allowed');
    for (const [status, body] of remote.slice(1)) {
      assert.equal(status, 403);
      assert.match(
        body,
        new RegExp(`only accepted from localhost \\(this request came from ${REMOTE_IP}\\)`),
      );
    }
    const [[status, body]] = requests(z.port, '127.0.0.1', [['POST', '/logging?level=debug']]) as [
      [number, string],
    ];
    assert.equal(status, 200);
    assert.equal((JSON.parse(body) as { level: string }).level, 'debug');
  },
);

test(
  '--admin-allow-remote-changes lets a remote peer change the levels',
  { skip: notRoot },
  async (t) => {
    netns(t);
    const z = await startZtunnel(t, ['--admin-allow-remote-changes']);
    const [[status]] = requests(z.port, REMOTE_IP, [['POST', '/logging?level=warn']]) as [
      [number, string],
    ];
    assert.equal(status, 200);
  },
);
