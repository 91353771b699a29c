// Test fixture: real network namespaces joined by a veth pair, commands run inside them, and the
// calling thread's own namespace. Needs root. Addresses exist only inside the namespaces.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
let created = 0;

export interface Netns {
  name: string;
  /** /run/netns/<name> */
  path: string;
  /** Address on the veth end inside this namespace. */
  ipv4: string;
  ipv6: string;
}

export interface NetnsPair {
  a: Netns;
  b: Netns;
  /** A 10.x address routed through the veth that nothing owns. */
  unusedIpv4: string;
  unusedIpv6: string;
  destroy(): Promise<void>;
}

/** Runs a command inside `ns` and returns its stdout. */
export async function execIn(ns: Netns, command: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', ns.name, command, ...args]);
  return stdout;
}

/**
 * Two new namespaces with loopback up and a veth pair between them: a = 10.77.<n>.1/24 and
 * fd77:<n+1>::1/64, b = .2 / ::2. Names carry the pid and a counter, so runs never collide.
 */
export async function createNetnsPair(): Promise<NetnsPair> {
  const n = created++;
  const tag = `nsy${process.pid}x${n}`;
  const make = (side: 'a' | 'b', host: number): Netns => ({
    name: `${tag}${side}`,
    path: `/run/netns/${tag}${side}`,
    ipv4: `10.77.${n}.${host}`,
    ipv6: `fd77:${n + 1}::${host}`,
  });
  const a = make('a', 1);
  const b = make('b', 2);
  const pair: NetnsPair = {
    a,
    b,
    unusedIpv4: `10.77.${n}.99`,
    unusedIpv6: `fd77:${n + 1}::99`,
    destroy: async () => {
      await run('ip', ['netns', 'del', a.name]);
      await run('ip', ['netns', 'del', b.name]);
    },
  };
  await run('ip', ['netns', 'add', a.name]);
  await run('ip', ['netns', 'add', b.name]);
  await run('ip', [
    'link',
    'add',
    a.name,
    'netns',
    a.name,
    'type',
    'veth',
    'peer',
    'name',
    b.name,
    'netns',
    b.name,
  ]);
  for (const ns of [a, b]) {
    await execIn(ns, 'ip', 'link', 'set', 'lo', 'up');
    await execIn(ns, 'ip', 'addr', 'add', `${ns.ipv4}/24`, 'dev', ns.name);
    await execIn(ns, 'ip', '-6', 'addr', 'add', `${ns.ipv6}/64`, 'dev', ns.name, 'nodad');
    await execIn(ns, 'ip', 'link', 'set', ns.name, 'up');
  }
  return pair;
}

/** The inode of the calling thread's network namespace. */
export function currentNetnsInode(): number {
  return statSync('/proc/thread-self/ns/net').ino;
}

/** A TCP server in its own process inside `ns`: answers every connection with the peer address. */
export interface PeerReporter {
  port: number;
  stop(): void;
}

const reporterScript = `
const net = require('node:net');
const server = net.createServer((c) => c.end(c.remoteAddress + '\\n'));
server.listen(0, process.argv[1], () => process.stdout.write(server.address().port + '\\n'));
`;

export async function startPeerReporter(ns: Netns, host: string): Promise<PeerReporter> {
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns.name, process.execPath, '-e', reporterScript, host],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`peer reporter exited with ${code}`)));
  });
  lines.close();
  return { port, stop: () => child.kill() };
}

/** Connects from inside `ns` in a separate process and returns what the server sent. */
export async function readFromInside(ns: Netns, host: string, port: number): Promise<string> {
  const script = `
const s = require('node:net').connect(Number(process.argv[2]), process.argv[1]);
s.on('data', (d) => process.stdout.write(d));
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;
  return execIn(ns, process.execPath, '-e', script, host, String(port));
}
