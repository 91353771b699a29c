// `trellis cluster create`: the --lb-range option is documented in --help and a bad value is a
// usage error (exit 2) before anything is created. The clusters themselves are tested in
// @trellis/local-cluster (lb-controller.test and cluster.test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(
  fileURLToPath(new URL('../../../../', import.meta.url)),
  'packages/cli/dist/main.js',
);
const trellis = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('cluster create --help describes LoadBalancer addresses and --lb-range', () => {
  const help = trellis('cluster', 'create', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--lb-range CIDR\|A-B\s+addresses for LoadBalancer Services/);
  assert.match(help.stdout, /default, local: 172\.28\.<slot>\.192\/26/);
  assert.match(help.stdout, /kind: the top quarter of the kind network's subnet, at most a \/24/);
  assert.match(help.stdout, /On kind it routes over the kind network's bridge/);
  assert.match(help.stdout, /status\.loadBalancer\.ingress/);
});

test('a bad --lb-range is a usage error naming what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['bogus', /invalid --lb-range "bogus": not an IPv4 CIDR or range/],
    ['10.200.0.1/24', /has host bits set; the block is 10\.200\.0\.0\/24/],
    ['10.200.0.9-10.200.0.1', /10\.200\.0\.1 comes before 10\.200\.0\.9/],
  ];
  for (const [value, want] of cases) {
    const r = trellis('cluster', 'create', '--name', `lbx${process.pid}`, '--lb-range', value);
    assert.equal(r.status, 2, `${value}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
});

test('cluster --provider kind without a Docker engine says how to start one', () => {
  const r = spawnSync(
    process.execPath,
    [CLI, 'cluster', 'create', '--provider', 'kind', '--name', `k${process.pid}`],
    {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: `unix:///nonexistent-${process.pid}.sock` },
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /the kind provider needs a running Docker engine, and none answers/);
  assert.match(r.stderr, /tools\/docker-here\.sh start && eval "\$\(tools\/docker-here\.sh env\)"/);
});

test('kind-only flags, a bad --lb-range and bad kind names are usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--image', 'x:1'], /--image is for --provider kind/],
    [
      ['--provider', 'kind', '--name', 'k', '--lb-range', '10.200.0.5/28'],
      /invalid --lb-range "10.200.0.5\/28": 10.200.0.5\/28 has host bits set/,
    ],
    [['--provider', 'kind', '--name', 'Bad_Name'], /invalid cluster name "Bad_Name": kind needs/],
  ];
  for (const [args, want] of cases) {
    const r = trellis('cluster', 'create', ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
});
