// The real `trellis-control-plane --config-dir` fed careless and hostile files (issue #10): a
// wrongly typed field drops one object, named by file and document, while everything else keeps
// being served and later edits still flow; a policy whose rules cannot be read fails closed; bad
// and shared pod IPs are warned about; an alias bomb is one bad document, at start-up and in a
// reload; oversized files and documents are refused with the flag to change; a reload of a large
// file does not stop the process from answering.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { eventually } from '@trellis/core/test-support';
import {
  startControlPlaneProcess,
  type ControlPlaneProcess,
} from './test-support/control-plane-process.js';
import { wdsClient, type WdsClient } from './test-support/wds-client.js';

const pod = (name: string, ip: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: shop, labels: { app: ${name} } }
spec: { containers: [{ name: c, image: x }] }
status:
  phase: Running
  podIP: "${ip}"
  conditions: [{ type: Ready, status: "True" }]
${extra}`;

const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { istio.io/dataplane-mode: ambient } }
`;

const uid = (name: string) => `Kubernetes//Pod/shop/${name}`;

function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function start(
  t: { after(fn: () => Promise<void>): void },
  files: Record<string, string>,
  flags: string[] = [],
): Promise<{
  dir: string;
  cp: ControlPlaneProcess;
  client: WdsClient;
  get(path: string): Promise<Response>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'cp-bad-input-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const running: { cp?: ControlPlaneProcess; client?: WdsClient } = {};
  t.after(async () => {
    running.client?.close();
    await running.cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const cp = (running.cp = await startControlPlaneProcess([
    `--config-dir=${dir}`,
    '--xds-address=127.0.0.1:0',
    '--debug-address=127.0.0.1:0',
    '--debounce-quiet=20ms',
    '--debounce-max=200ms',
    ...flags,
  ]));
  const client = (running.client = wdsClient(
    `127.0.0.1:${cp.ports.xds}`,
    credentials.createInsecure(),
  ));
  const port = cp.ports.debug;
  return { dir, cp, client, get: (path) => fetch(`http://127.0.0.1:${port}${path}`) };
}

const errorsNaming = (cp: ControlPlaneProcess, text: string) =>
  cp.logs.filter((l) => l.level === 'error' && String(l.msg).includes(text));

test(
  'a wrongly typed field drops that object only, named by file and document; later edits still flow',
  { timeout: 120_000 },
  async (t) => {
    const { dir, cp, client, get } = await start(t, {
      'good.yaml': [NAMESPACE, pod('a', '10.0.0.1')].join('---\n'),
      'bad.yaml': [
        pod('ok-in-bad', '10.0.0.2'),
        pod('bad', '1.2.3.4', '  podIPs: oops\n'),
        `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: broken, namespace: shop }
spec:
  selector: { matchLabels: { app: a } }
  rules: [{ from: str }]
`,
      ].join('---\n'),
    });

    await eventually('/ready answers 200', async () =>
      (await get('/ready')).status === 200 ? true : undefined,
    );
    await eventually('both types received', () =>
      client.addresses.version() && client.authorizations.version() ? true : undefined,
    );
    const addresses = [...client.addresses.resources().keys()];
    for (const name of ['a', 'ok-in-bad'])
      assert.ok(addresses.includes(uid(name)), `${name} is served`);
    assert.ok(!addresses.includes(uid('bad')), 'the wrongly typed pod is not served');

    // The bad pod is named by file and document, with the field at fault.
    const [rejected] = errorsNaming(cp, 'bad.yaml: document 2');
    assert.ok(rejected, 'an error names bad.yaml document 2');
    assert.match(
      String(rejected.msg),
      /Pod shop\/bad: status\.podIPs: expected a list, got the string "oops"/,
    );
    const configz = (await (await get('/debug/configz')).json()) as {
      rejected: { file: string; document: number; kind: string; message: string }[];
    };
    assert.deepEqual(
      configz.rejected.map((r) => [r.file, r.document, r.kind]),
      [['bad.yaml', 2, 'Pod']],
    );
    const metrics = await (await get('/metrics')).text();
    assert.match(metrics, /trellis_config_rejected_objects\{kind="Pod"\} 1/);
    assert.match(metrics, /pilot_total_k8s_object_errors 1/);

    // The policy whose rules cannot be read is kept and allows nothing (an ALLOW without rules).
    const policy = client.authorizations.resources().get('shop/broken');
    assert.ok(policy, 'the broken ALLOW policy is still sent');
    assert.deepEqual(policy.rules, [], 'and it allows nothing');
    await cp.waitForLog(
      (l) => l.level === 'warn' && /spec\.rules\[0\]\.from: expected a list/.test(String(l.msg)),
      'a warning about the unreadable rules',
    );

    // With the bad object still there, an edit elsewhere is served.
    writeFileSync(join(dir, 'more.yaml'), pod('b', '10.0.0.3'));
    await eventually('the new pod is pushed', () =>
      client.addresses.resources().has(uid('b')) ? true : undefined,
    );
    // Fixing the bad object brings it in and clears the rejection.
    replaceFile(
      join(dir, 'bad.yaml'),
      [pod('ok-in-bad', '10.0.0.2'), pod('bad', '1.2.3.4')].join('---\n'),
    );
    await eventually('the fixed pod is pushed', () =>
      client.addresses.resources().has(uid('bad')) ? true : undefined,
    );
    const after = (await (await get('/debug/configz')).json()) as { rejected: unknown[] };
    assert.deepEqual(after.rejected, []);
  },
);

test(
  'pod IPs: one that is not an IP and one claimed by two pods are warned about; ::ffff:a.b.c.d is IPv4',
  { timeout: 120_000 },
  async (t) => {
    const { cp, client } = await start(t, {
      'pods.yaml': [
        NAMESPACE,
        pod('a', '10.0.0.1'),
        pod('typo', '999.1.2.3'),
        pod('dup-1', '10.0.0.5'),
        pod('dup-2', '10.0.0.5'),
        pod('mapped', '::ffff:10.0.0.7'),
      ].join('---\n'),
    });
    await eventually('the pods are served', () =>
      client.addresses.resources().has(uid('mapped')) ? true : undefined,
    );
    const addresses = [...client.addresses.resources().keys()];
    for (const name of ['a', 'dup-1', 'dup-2', 'mapped'])
      assert.ok(addresses.includes(uid(name)), `${name} is served`);
    assert.ok(!addresses.includes(uid('typo')), 'a pod without a usable IP gets no Address');
    // Bad and shared IPs are warned about; an IPv4-mapped address is sent as IPv4.
    await cp.waitForLog(
      (l) => l.level === 'warn' && String(l.msg).includes('"999.1.2.3" is not an IP address'),
      'a warning about 999.1.2.3',
    );
    await cp.waitForLog(
      (l) =>
        l.level === 'warn' && String(l.msg) === 'IP 10.0.0.5 is also claimed by pod shop/dup-2',
      'a warning about the shared IP',
    );
    const mapped = client.addresses.resources().get(uid('mapped'));
    assert.equal(mapped?.type.case, 'workload');
    assert.deepEqual([...mapped.type.value.addresses[0]!], [10, 0, 0, 7]);
  },
);

const BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
`;

test(
  'an alias bomb is one bad document: at start-up, and in a reload that also edits another file',
  { timeout: 120_000 },
  async (t) => {
    const { dir, cp, client } = await start(t, {
      'bomb.yaml': BOMB,
      'good.yaml': [NAMESPACE, pod('a', '10.0.0.1')].join('---\n'),
    });
    await eventually('the good pod is served', () =>
      client.addresses.resources().has(uid('a')) ? true : undefined,
    );
    assert.ok(errorsNaming(cp, 'bomb.yaml: document 1').length > 0, 'the bomb is reported');

    writeFileSync(join(dir, 'bomb-2.yaml'), BOMB);
    replaceFile(
      join(dir, 'good.yaml'),
      [NAMESPACE, pod('a', '10.0.0.1'), pod('b', '10.0.0.2')].join('---\n'),
    );
    await eventually('the edit of the same reload is served', () =>
      client.addresses.resources().has(uid('b')) ? true : undefined,
    );
    assert.ok(errorsNaming(cp, 'bomb-2.yaml: document 1').length > 0);
  },
);

test(
  'a file over the file size limit is skipped unread and a document over the document limit is rejected',
  { timeout: 120_000 },
  async (t) => {
    // Default limits: 16 MiB per file, 1.5 MiB per document.
    const big = `# ${'x'.repeat(17 * 1024 * 1024)}\n${pod('in-big-file', '10.0.0.9')}`;
    const bigDocument = pod('big', '10.0.0.8').replace(
      'metadata: {',
      `metadata: { annotations: { filler: "${'y'.repeat(1600 * 1024)}" },`,
    );
    const { cp, client } = await start(t, {
      'big.yaml': big,
      'docs.yaml': [NAMESPACE, pod('a', '10.0.0.1'), bigDocument].join('---\n'),
    });
    await eventually('the small pod is served', () =>
      client.addresses.resources().has(uid('a')) ? true : undefined,
    );
    const [file] = errorsNaming(cp, 'big.yaml');
    assert.equal(
      file?.msg,
      'big.yaml: 17 MiB is more than the 16 MiB allowed for one file (--config-max-file-size); not read',
    );
    const [doc] = errorsNaming(cp, 'docs.yaml: document 3');
    assert.equal(
      doc?.msg,
      'docs.yaml: document 3: 1.6 MiB is more than the 1.5 MiB allowed for one document (--config-max-document-size); skipped',
    );
    const held = [...client.addresses.resources().keys()];
    assert.ok(!held.includes(uid('in-big-file')) && !held.includes(uid('big')));
  },
);

test(
  'while a large file is parsed, the process keeps answering (parsing yields the event loop)',
  { timeout: 180_000 },
  async (t) => {
    const { dir, cp, get } = await start(t, { 'ns.yaml': NAMESPACE });
    await eventually('ready', async () =>
      (await get('/ready')).status === 200 ? true : undefined,
    );
    // ~6 MB of small documents: well under the limits, and seconds of parsing for the YAML library.
    const docs = Array.from({ length: 6000 }, (_, i) =>
      pod(`p${i}`, `10.1.${i >> 8}.${i & 255}`, `  # ${'z'.repeat(800)}\n`),
    );
    const loads = () => cp.logs.filter((l) => l.msg === 'config dir loaded').length;
    const before = loads();
    const answered: number[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        try {
          const res = await get('/ready');
          await res.text();
          answered.push(Date.now());
        } catch (e) {
          // A kept-alive socket the server closed as the next request went out: not an answer.
          if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw e;
        }
      }
    })();
    const written = Date.now();
    replaceFile(join(dir, 'many.yaml'), docs.join('---\n'));
    const loaded = await cp.waitForLog(
      (l) =>
        l.msg === 'config dir loaded' &&
        cp.logs.filter((x) => x.msg === 'config dir loaded').indexOf(l) >= before,
      'the reload of the large file',
      150_000,
    );
    polling = false;
    await poll;
    // The reload starts after the 100 ms quiet period; answers arrived while it was under way.
    const from = written + 300;
    const to = Date.parse(String(loaded['time'])) - 50;
    assert.ok(to - from > 200, `the reload took long enough to observe (${to - from} ms)`);
    const during = answered.filter((at) => at > from && at < to).length;
    assert.ok(during > 0, `answered ${during} requests while parsing`);
    assert.equal(loads(), before + 1);
  },
);
