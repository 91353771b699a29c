// The agent in a container (kind) gets CNI_NETNS as the node names it, /var/run/netns/cni-<id>,
// which it sees only under MOUNTED_NETNS_DIR; on the node itself (a local cluster) it sees the path
// as given. Real files in a temporary directory stand for the two views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from './config.js';
import { agentNetnsPath } from './netns-path.pure.js';

function fixture(t: { after(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), `trellis-netns-path-${process.pid}-`));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const nodeDir = join(root, 'node/var/run/netns'); // the node's own view
  const mounted = join(root, 'agent/host/var/run/netns'); // the same directory, mounted in the agent
  mkdirSync(nodeDir, { recursive: true });
  mkdirSync(mounted, { recursive: true });
  return { nodeDir, mounted };
}

test('a pinned netns the agent does not see at the node path is opened under MOUNTED_NETNS_DIR', (t) => {
  const { mounted } = fixture(t);
  writeFileSync(join(mounted, 'cni-1234'), '');
  const o = { hostProc: '/host/proc', mountedNetnsDir: mounted, exists: existsSync };
  assert.equal(agentNetnsPath('/var/run/netns/cni-1234', o), join(mounted, 'cni-1234'));
  // Only the file's name is taken from CNI_NETNS: another pin directory of the node maps the same.
  assert.equal(agentNetnsPath('/run/netns/cni-1234', o), join(mounted, 'cni-1234'));
});

test('the node path wins when the agent sees it (an agent on the node), and an unknown one stays as given', (t) => {
  const { nodeDir, mounted } = fixture(t);
  writeFileSync(join(nodeDir, 'cni-1'), '');
  writeFileSync(join(mounted, 'cni-1'), '');
  const o = { hostProc: '/host/proc', mountedNetnsDir: mounted, exists: existsSync };
  assert.equal(agentNetnsPath(join(nodeDir, 'cni-1'), o), join(nodeDir, 'cni-1'));
  // Neither view has it: the given path, so opening it fails with the name the runtime passed.
  assert.equal(agentNetnsPath('/var/run/netns/cni-gone', o), '/var/run/netns/cni-gone');
  // No mounted directory configured: as given.
  writeFileSync(join(mounted, 'cni-2'), '');
  const bare = { hostProc: '/host/proc', mountedNetnsDir: '', exists: existsSync };
  assert.equal(agentNetnsPath('/var/run/netns/cni-2', bare), '/var/run/netns/cni-2');
});

test('/proc/<pid>/ns/net is read through HOST_PROC', () => {
  const o = { hostProc: '/host/proc', mountedNetnsDir: '/nowhere', exists: () => false };
  assert.equal(agentNetnsPath('/proc/4242/ns/net', o), '/host/proc/4242/ns/net');
});

test('MOUNTED_NETNS_DIR and --mounted-netns-dir set the mounted directory (default /host/var/run/netns)', () => {
  assert.equal(loadAgentConfig({ env: {} }).mountedNetnsDir, '/host/var/run/netns');
  assert.equal(
    loadAgentConfig({ env: { MOUNTED_NETNS_DIR: '/mnt/netns' } }).mountedNetnsDir,
    '/mnt/netns',
  );
  assert.equal(
    loadAgentConfig({ argv: ['--mounted-netns-dir', '/x/netns'], env: {} }).mountedNetnsDir,
    '/x/netns',
  );
});
