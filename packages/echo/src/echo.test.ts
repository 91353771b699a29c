// The echo server and client together on loopback: the real `client` program (a child process)
// against a server started here, over HTTP/1.1, h2c, HTTPS (h1 and h2, verified against a CA),
// gRPC (plain, TLS, ForwardEcho, health), TCP (plain and TLS), the query options and redirects;
// the exit codes and messages of bad flags and failed requests; SIGTERM draining.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { EchoTestService, HealthService } from './echo-proto.js';
import { parseServerArgs, type ServerConfig } from './server-config.pure.js';
import { startServer, type RunningServer } from './server/server.js';

const CLIENT = fileURLToPath(new URL('./client-main.js', import.meta.url));
const SERVER = fileURLToPath(new URL('./server-main.js', import.meta.url));
const HOSTNAME = hostname();

let dir: string;
let server: RunningServer;
const port = (protocol: string, tls = false) =>
  server.listeners.find((l) => l.protocol === protocol && l.tls === tls)!.port;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'echo-test-'));
  for (const name of ['server', 'other'])
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        `${dir}/${name}.key`,
        '-out',
        `${dir}/${name}.crt`,
        '-subj',
        '/CN=echo',
        '-days',
        '1',
        '-addext',
        'subjectAltName=DNS:echo,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  const config = parseServerArgs([
    `--crt=${dir}/server.crt`,
    `--key=${dir}/server.key`,
  ]) as ServerConfig;
  // Port 0 everywhere (unique per run); the TLS listeners are added by hand since --tls needs numbers.
  config.listeners = (['http', 'grpc', 'tcp'] as const).flatMap((protocol) => [
    { protocol, port: 0, tls: false },
    { protocol, port: 0, tls: true },
  ]);
  server = await startServer(config, () => {});
});

after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(
  program: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [program, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function client(...args: string[]): Promise<string> {
  const r = await run(CLIENT, args);
  assert.equal(r.code, 0, `client ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** The first `Name=` value, as the conformance suite reads it. */
const field = (out: string, name: string) => new RegExp(`${name}=(.*)`).exec(out)?.[1];
const sections = (out: string) => out.split('\n\n').filter((s) => /StatusCode=|Hostname=/.test(s));

test('HTTP/1.1: method, target, Host, headers and the answering host come back', async () => {
  const p = port('http');
  const out = await client(
    `http://127.0.0.1:${p}/path?q=1`,
    '--method=POST',
    '-H',
    'version:one',
    '-H',
    'X-Multi:a',
    '-H',
    'x-multi:b',
  );
  assert.equal(field(out, 'StatusCode'), '200');
  assert.equal(field(out, 'Method'), 'POST');
  assert.equal(field(out, 'URL'), '/path?q=1');
  assert.equal(field(out, 'Proto'), 'HTTP/1.1');
  assert.equal(field(out, 'Host'), `127.0.0.1:${p}`);
  assert.equal(field(out, 'ServicePort'), String(p));
  assert.equal(field(out, 'Hostname'), HOSTNAME);
  assert.match(out, /^\[0\] Header=version:one$/m, 'the headers sent, as given');
  assert.match(out, /^\[0 body\] RequestHeader=Version:one$/m, 'as the server saw them, canonical');
  assert.match(out, /^\[0 body\] RequestHeader=X-Multi:a\n\[0 body\] RequestHeader=X-Multi:b$/m);
  assert.match(out, /^\[0\] ResponseHeader=Content-Type:application\/text$/m);
  const host = await client(`http://127.0.0.1:${p}/`, '-H', 'Host:echo-v1');
  assert.equal(field(host, 'Host'), 'echo-v1');
  assert.doesNotMatch(host, /RequestHeader=Host:/);
});

test('h2c with prior knowledge on the same port; --count gives one section per request', async () => {
  const out = await client(`http://127.0.0.1:${port('http')}/h2`, '--http2', '--count=3');
  const parts = sections(out);
  assert.equal(parts.length, 3, out);
  for (const [i, s] of parts.entries()) {
    assert.ok(s.trimStart().startsWith(`[${i}] Url=`));
    assert.equal(field(s, 'Proto'), 'HTTP/2.0');
    assert.equal(field(s, 'URL'), '/h2');
  }
});

test('HTTP/1.1 requests that begin like the HTTP/2 preface, split and pipelined, are still HTTP/1.1', async () => {
  const answer = await new Promise<string>((resolve, reject) => {
    const s = connect(port('http'), '127.0.0.1');
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (c) => (got += c));
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.write('P'); // could still be "PRI * HTTP/2.0"
    setTimeout(() => {
      s.write('OST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n');
      s.write('GET /two HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n');
    }, 50);
  });
  assert.equal(answer.match(/^HTTP\/1.1 200 OK/gm)?.length, 2, answer);
  assert.match(answer, /URL=\/one\nMethod=POST/);
  assert.match(answer, /URL=\/two\nMethod=GET/);
});

test('HTTPS verified against the CA, over HTTP/1.1 and h2 (ALPN and SNI reported)', async () => {
  const url = `https://127.0.0.1:${port('http', true)}/secure`;
  const h1 = await client(url, `--ca=${dir}/server.crt`, '-H', 'Host:echo');
  assert.equal(field(h1, 'StatusCode'), '200');
  assert.equal(field(h1, 'Alpn'), 'http/1.1');
  assert.equal(field(h1, 'Sni'), 'echo', 'the Host header names the server');
  const h2 = await client(url, `--ca=${dir}/server.crt`, '--http2', '--server-name=echo');
  assert.equal(field(h2, 'Proto'), 'HTTP/2.0');
  assert.equal(field(h2, 'Alpn'), 'h2');
  const wrongCa = await run(CLIENT, [url, `--ca=${dir}/other.crt`]);
  assert.equal(wrongCa.code, 1);
  assert.equal(wrongCa.stdout, '');
  assert.match(
    wrongCa.stderr,
    /^Error 1\/1 requests had errors; first error: GET .*(certificate|self-signed|signature)/,
  );
  const unverified = await client(url);
  assert.equal(
    field(unverified, 'StatusCode'),
    '200',
    'without --ca the certificate is not checked',
  );
});

test('gRPC Echo: a --count batch, the authority from Host, metadata echoed', async () => {
  const out = await client(
    `grpc://127.0.0.1:${port('grpc')}`,
    '--count=5',
    '-H',
    'Host:echo:7070',
    '-H',
    'x-echo:two',
  );
  const parts = sections(out);
  assert.equal(parts.length, 5, out);
  for (const s of parts) {
    assert.equal(field(s, 'StatusCode'), '200');
    assert.equal(field(s, 'Proto'), 'GRPC');
    assert.equal(field(s, 'Host'), 'echo:7070');
    assert.equal(field(s, 'Echo'), 'HelloWorld');
    assert.equal(field(s, 'ServicePort'), String(port('grpc')));
    assert.equal(field(s, 'Hostname'), HOSTNAME);
    assert.match(s, /\[\d body\] RequestHeader=x-echo:two/);
  }
});

test('gRPC over TLS (with a client certificate, as upstream) and TCP over TLS', async () => {
  const tlsFlags = [
    `--client-cert=${dir}/other.crt`,
    `--client-key=${dir}/other.key`,
    `--ca=${dir}/server.crt`,
  ];
  const g = await client(`grpc://127.0.0.1:${port('grpc', true)}`, ...tlsFlags, '--msg=secret');
  assert.equal(field(g, 'Echo'), 'secret');
  const t = await client(`tcp://127.0.0.1:${port('tcp', true)}`, ...tlsFlags);
  assert.equal(field(t, 'Proto'), 'TCP');
  assert.equal(field(t, 'ServicePort'), String(port('tcp', true)));
});

test('TCP: the fields, then the message echoed; --expect checks the answer', async () => {
  const url = `tcp://127.0.0.1:${port('tcp')}`;
  const out = await client(url, '--msg=ping');
  assert.equal(field(out, 'StatusCode'), '200');
  assert.equal(field(out, 'Proto'), 'TCP');
  assert.equal(field(out, 'Hostname'), HOSTNAME);
  assert.match(out, /^\[0\] Echo=ping\n[^]*\[0 body\] ping\n\n$/m);
  const missing = await run(CLIENT, [url, '--expect=Proto=UDP']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /expect to recv message with Proto=UDP/);
});

test('query options: ?codes= and ?headers=; redirects followed only with -L', async () => {
  const base = `http://127.0.0.1:${port('http')}`;
  const coded = await client(`${base}/?codes=418&headers=X-Set:v1`);
  assert.equal(field(coded, 'StatusCode'), '418');
  assert.match(coded, /^\[0\] ResponseHeader=X-Set:v1$/m);
  const redirect = `${base}/start?codes=302&headers=Location:/landed`;
  const stay = await client(redirect);
  assert.equal(field(stay, 'StatusCode'), '302');
  assert.match(stay, /^\[0\] ResponseHeader=Location:\/landed$/m);
  const follow = await client(redirect, '-L');
  assert.equal(field(follow, 'StatusCode'), '200');
  assert.equal(field(follow, 'URL'), '/landed');
});

test('ForwardEcho over gRPC makes the calls from the server; health is SERVING', async () => {
  const target = `127.0.0.1:${port('grpc')}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const echo = new EchoTestService(target, credentials.createInsecure()) as any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const health = new HealthService(target, credentials.createInsecure()) as any;
  const call = <T>(c: typeof echo, method: string, req: unknown) =>
    new Promise<T>((resolve, reject) =>
      c[method](req, new Metadata(), (err: ServiceError | null, res: T) =>
        err ? reject(err) : resolve(res),
      ),
    );
  try {
    const res = await call<{ output: string[] }>(echo, 'forwardEcho', {
      url: `http://127.0.0.1:${port('http')}/forwarded`,
      count: 2,
      headers: [{ key: 'X-F', value: '1' }],
    });
    assert.equal(res.output.length, 2);
    for (const [i, o] of res.output.entries()) {
      assert.match(o, new RegExp(`^\\[${i}\\] Url=http://127.0.0.1:\\d+/forwarded\\n`));
      assert.match(o, /\[\d body\] URL=\/forwarded\n/);
      assert.match(o, /\[\d body\] RequestHeader=X-F:1\n/);
    }
    await assert.rejects(call(echo, 'forwardEcho', { url: 'ws://x/' }), (e: ServiceError) => {
      assert.equal(e.code, 3, 'INVALID_ARGUMENT');
      assert.match(e.details, /scheme "ws" is not supported/);
      return true;
    });
    assert.deepEqual(await call(health, 'check', {}), { status: 'SERVING' });
  } finally {
    echo.close();
    health.close();
  }
});

test('failures: exit 1 with the reason on stderr and nothing on stdout', async () => {
  const slow = await run(CLIENT, [`http://127.0.0.1:${port('http')}/?delay=3s`, '--timeout=300ms']);
  assert.equal(slow.code, 1);
  assert.equal(slow.stdout, '');
  assert.match(
    slow.stderr,
    /^Error request set timed out after 300ms and only 0\/1 requests completed/,
  );
  const refused = await run(CLIENT, ['tcp://127.0.0.1:1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ECONNREFUSED/);
  const scheme = await run(CLIENT, ['udp://127.0.0.1:53']);
  assert.equal(scheme.code, 1);
  assert.match(scheme.stderr, /scheme "udp" is not supported by this echo client/);
});

test('bad flags: exit 2 with a message naming the flag', async () => {
  const c = await run(CLIENT, ['http://x', '-H', 'nocolon']);
  assert.equal(c.code, 2);
  assert.match(
    c.stderr,
    /^client: invalid header format: "nocolon" \(want name:value\)\nRun 'client --help'/,
  );
  const s = await run(SERVER, ['--udp=5353']);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /^server: flag --udp is not supported: an Istio echo server flag/);
  const help = await run(SERVER, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--tls ints/);
  const busy = await run(SERVER, [`--port=${port('http')}`, '--grpc=', '--tcp=']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`cannot listen on port ${port('http')}: .*EADDRINUSE`));
});

test(
  'SIGTERM: the server keeps answering while requests come, then exits 0',
  { timeout: 30_000 },
  async () => {
    const p = spawn(process.execPath, [SERVER, '--port=0', '--grpc=', '--tcp='], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    p.stdout.on('data', (c) => (log += c));
    p.stderr.on('data', (c) => (log += c));
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    const waitFor = (text: string) =>
      Promise.race([
        new Promise<void>((resolve) => {
          const check = () => log.includes(text) && resolve();
          check();
          p.stdout.on('data', check);
        }),
        exited.then((code) => {
          throw new Error(`the server exited (${code}) before "${text}":\n${log}`);
        }),
      ]);
    try {
      await waitFor('now ready');
      const serverPort = Number(/Listening HTTP\/1.1 and h2c on (\d+)/.exec(log)?.[1]);
      p.kill('SIGTERM');
      await waitFor('SIGTERM: draining');
      const status = await new Promise<number | undefined>((resolve, reject) =>
        get(`http://127.0.0.1:${serverPort}/draining`, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject),
      );
      assert.equal(status, 200, 'still answering while draining');
      assert.equal(await exited, 0, log);
    } finally {
      p.kill('SIGKILL');
    }
  },
);
