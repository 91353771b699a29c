// Every command's input validation and decisions, through runPlugin with recorded I/O (the real
// binary is driven by a runtime in the netns and cluster tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PodEvent } from '../plugin-events.pure.js';
import { runPlugin, type PluginIo, type PodLookup } from './plugin.js';

const prevResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', sandbox: '/run/netns/p1' }],
  ips: [{ address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 0 }],
};
const conf = (over: object = {}) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'trellis-cni',
    prevResult,
    ...over,
  });
const env = (over: Record<string, string | undefined> = {}) => ({
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/run/netns/p1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_UID=u-1',
  ...over,
});

interface Calls {
  agent: { path: string; event: PodEvent }[];
  lookups: number;
}

function io(
  opts: { lookup?: PodLookup | Error; agent?: Error; exists?: boolean } = {},
): PluginIo & { calls: Calls } {
  const calls: Calls = { agent: [], lookups: 0 };
  return {
    calls,
    async lookupPod() {
      calls.lookups++;
      if (opts.lookup instanceof Error) throw opts.lookup;
      return (
        opts.lookup ?? { labels: {}, annotations: {}, hostNetwork: false, namespaceLabels: {} }
      );
    },
    async callAgent(_socket, path, event) {
      calls.agent.push({ path, event });
      if (opts.agent) throw opts.agent;
    },
    exists: () => opts.exists ?? false,
    log: () => undefined,
  };
}

const enrolledNs: PodLookup = {
  labels: {},
  annotations: {},
  hostNetwork: false,
  namespaceLabels: { 'istio.io/dataplane-mode': 'ambient' },
};

async function error(e: Record<string, string | undefined>, stdin: string) {
  const out = await runPlugin(e, stdin, io());
  assert.equal(out.exitCode, 1);
  return JSON.parse(out.stdout) as { code: number; msg: string; cniVersion: string };
}

test('VERSION lists the supported versions', async () => {
  const out = await runPlugin({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}', io());
  assert.deepEqual(JSON.parse(out.stdout), {
    cniVersion: '1.0.0',
    supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  });
});

test('bad environment: CNI error code 4 saying which variable', async () => {
  for (const [e, msg] of [
    [{ CNI_COMMAND: undefined }, /CNI_COMMAND is not set/],
    [
      { CNI_COMMAND: 'FROB' },
      /CNI_COMMAND 'FROB' is not one of ADD, DEL, CHECK, VERSION, STATUS, GC/,
    ],
    [{ CNI_CONTAINERID: undefined }, /CNI_CONTAINERID is required for ADD/],
    [{ CNI_CONTAINERID: '-x' }, /CNI_CONTAINERID '-x' must start with a letter or digit/],
    [{ CNI_NETNS: '' }, /CNI_NETNS is required for ADD/],
    [{ CNI_IFNAME: 'a/b' }, /CNI_IFNAME 'a\/b' is not a valid interface name/],
    [{ CNI_PATH: undefined }, /CNI_PATH is required for ADD/],
    [{ CNI_ARGS: 'K8S_POD_NAME' }, /CNI_ARGS: 'K8S_POD_NAME' is not KEY=VALUE/],
  ] as const) {
    const err = await error(env(e), conf());
    assert.equal(err.code, 4, JSON.stringify(e));
    assert.match(err.msg, msg);
  }
});

test('bad stdin: decode (6), version (1) and config (7) errors that say what is wrong', async () => {
  for (const [stdin, code, msg, command] of [
    ['', 6, /no network configuration on stdin/, 'ADD'],
    ['{nope', 6, /network configuration on stdin is not JSON/, 'ADD'],
    ['[1]', 6, /must be a JSON object/, 'ADD'],
    [
      conf({ cniVersion: '9.9.9' }),
      1,
      /CNI version 9.9.9 is not supported \(supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\)/,
      'ADD',
    ],
    [conf({ cniVersion: undefined }), 7, /"cniVersion" is required/, 'ADD'],
    [conf({ name: '' }), 7, /"name" is required/, 'ADD'],
    [conf({ type: 3 }), 7, /"type" is required/, 'ADD'],
    [
      conf({ exclude_namespaces: 'kube-system' }),
      7,
      /"exclude_namespaces" must be an array of strings, got "kube-system"/,
      'ADD',
    ],
    [
      conf({ agent_timeout_ms: 0 }),
      7,
      /"agent_timeout_ms" must be an integer from 1 to 60000/,
      'ADD',
    ],
    [conf({ prevResult: 'x' }), 7, /"prevResult" must be an object/, 'ADD'],
    [conf({ prevResult: undefined }), 7, /CHECK needs "prevResult"/, 'CHECK'],
    [conf({ cniVersion: '0.3.1' }), 1, /CHECK needs CNI version 0.4.0 or later/, 'CHECK'],
    [conf({ cniVersion: '1.0.0' }), 1, /STATUS needs CNI version 1.1.0/, 'STATUS'],
  ] as const) {
    const err = await error(env({ CNI_COMMAND: command }), stdin);
    assert.equal(err.code, code, stdin);
    assert.match(err.msg, msg);
  }
});

test('ADD of a pod that is not enrolled passes prevResult through and never calls the agent', async () => {
  const i = io();
  const out = await runPlugin(env(), conf(), i);
  assert.equal(out.exitCode, 0);
  assert.deepEqual(JSON.parse(out.stdout), prevResult);
  assert.equal(i.calls.agent.length, 0);
  const excluded = io({ lookup: enrolledNs });
  await runPlugin(env(), conf({ exclude_namespaces: ['shop'] }), excluded);
  assert.equal(
    excluded.calls.lookups + excluded.calls.agent.length,
    0,
    'an excluded namespace needs no lookup',
  );
});

test('ADD when the API cannot be asked lets the pod start (the agent redirects it later)', async () => {
  const i = io({ lookup: new Error('connect ECONNREFUSED') });
  const out = await runPlugin(env(), conf(), i);
  assert.equal(out.exitCode, 0);
  assert.deepEqual(JSON.parse(out.stdout), prevResult);
  assert.equal(i.calls.agent.length, 0);
});

test('ADD of an enrolled pod posts the event with the prevResult addresses and passes prevResult on', async () => {
  const i = io({ lookup: enrolledNs });
  const out = await runPlugin(env(), conf(), i);
  assert.equal(out.exitCode, 0);
  assert.equal(out.stdout, JSON.stringify(prevResult));
  assert.deepEqual(i.calls.agent, [
    {
      path: '/cmdadd',
      event: {
        podName: 'web',
        podNamespace: 'shop',
        podUid: 'u-1',
        containerId: 'abc123',
        netns: '/run/netns/p1',
        ips: ['10.244.1.7'],
      },
    },
  ]);
});

test('ADD of an enrolled pod fails with code 11 and the reason when the agent cannot redirect it', async () => {
  const out = await runPlugin(
    env(),
    conf(),
    io({ lookup: enrolledNs, agent: new Error('trellis-cni-agent: no ztunnel is connected') }),
  );
  assert.equal(out.exitCode, 1);
  const err = JSON.parse(out.stdout) as { code: number; msg: string; cniVersion: string };
  assert.equal(err.code, 11);
  assert.equal(err.cniVersion, '1.0.0');
  assert.match(
    err.msg,
    /pod shop\/web is in the ambient mesh \(namespace label\) but its traffic redirection could not be set up: trellis-cni-agent: no ztunnel is connected/,
  );
});

test('DEL calls the agent only for pods it redirected, and never fails', async () => {
  const none = io();
  assert.equal(
    (await runPlugin(env({ CNI_COMMAND: 'DEL', CNI_NETNS: '' }), conf(), none)).exitCode,
    0,
  );
  assert.equal(none.calls.agent.length, 0);
  const marked = io({ exists: true, agent: new Error('gone') });
  const out = await runPlugin(env({ CNI_COMMAND: 'DEL' }), conf(), marked);
  assert.equal(out.exitCode, 0);
  assert.equal(out.stdout, '');
  assert.equal(marked.calls.agent[0]?.path, '/cmddel');
});

test('CHECK reports the agent-found drift as code 100; a pod not enrolled passes', async () => {
  assert.equal((await runPlugin(env({ CNI_COMMAND: 'CHECK' }), conf(), io())).exitCode, 0);
  const out = await runPlugin(
    env({ CNI_COMMAND: 'CHECK' }),
    conf(),
    io({ lookup: enrolledNs, agent: new Error("nat: missing rule '-A ISTIO_OUTPUT ...'") }),
  );
  const err = JSON.parse(out.stdout) as { code: number; msg: string };
  assert.equal(err.code, 100);
  assert.match(
    err.msg,
    /should be redirected into ztunnel but is not as it should be: nat: missing rule/,
  );
});

test("STATUS is not available (50) without the agent's kubeconfig; GC succeeds", async () => {
  const err = await error(env({ CNI_COMMAND: 'STATUS' }), conf({ cniVersion: '1.1.0' }));
  assert.equal(err.code, 50);
  assert.match(err.msg, /trellis-cni-kubeconfig is missing: trellis-cni-agent is not installed/);
  const ok = await runPlugin(
    env({ CNI_COMMAND: 'STATUS' }),
    conf({ cniVersion: '1.1.0' }),
    io({ exists: true }),
  );
  assert.equal(ok.exitCode, 0);
  assert.equal(
    (await runPlugin(env({ CNI_COMMAND: 'GC' }), conf({ cniVersion: '1.1.0' }), io())).exitCode,
    0,
  );
});
