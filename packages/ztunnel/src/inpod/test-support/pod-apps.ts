// Helpers for the in-pod scenarios: apps and clients whose sockets live in a pod's netns (so the
// pod's redirection rules apply to them), and a packet capture on a node's interface.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import { connectInNetns, listenInNetns } from '@trellis/netsys';

export type Outcome = { reply: string } | { error: string };

/** A TCP app in `netns` answering every connection with the SHA-256 (hex) of what it read. */
export async function startPodHashApp(netns: string, port: number): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    socket.on('data', (d: Buffer) => hash.update(d));
    socket.on('end', () => socket.end(hash.digest('hex')));
    socket.on('error', () => {});
  });
  await listenInNetns(server, netns, { host: '0.0.0.0', port });
  return server;
}

/** A TCP app in `netns` answering every connection, once the client is done, with the address it sees the client at. */
export async function startPodPeerApp(netns: string, port: number): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end((socket.remoteAddress ?? '').replace(/^::ffff:/, '')));
  });
  await listenInNetns(server, netns, { host: '0.0.0.0', port });
  return server;
}

/**
 * A TCP app in `netns` that speaks first and half-closes at once ("hello", FIN), then reads on:
 * what each client sent after that is pushed to `received` when the client ends.
 */
export async function startPodFirstSpeakerApp(
  netns: string,
  port: number,
  received: string[],
): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => received.push(Buffer.concat(chunks).toString()));
    socket.end('hello');
  });
  await listenInNetns(server, netns, { host: '0.0.0.0', port });
  return server;
}

/**
 * The client of startPodFirstSpeakerApp: connects from `netns`, reads until the server's end,
 * then sends `text` and ends; resolves with what it read once the connection closed.
 */
export async function podAnswerAfterEnd(
  netns: string,
  host: string,
  port: number,
  text: string,
): Promise<Outcome> {
  const socket = await connectInNetns(netns, { host, port });
  socket.allowHalfOpen = true;
  return new Promise<Outcome>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => socket.end(text));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    socket.on('close', () => {
      if (!socket.errored) resolve({ reply: Buffer.concat(chunks).toString() });
    });
  });
}

export const closeServer = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

/**
 * Connects from inside `netns` to host:port, sends the parts (awaiting `between(i)` after part i),
 * half-closes and returns the reply, or the error that ended the connection.
 */
export async function podExchange(
  netns: string,
  host: string,
  port: number,
  parts: Buffer[],
  between?: (i: number) => Promise<void>,
): Promise<Outcome> {
  let socket: net.Socket;
  try {
    socket = await connectInNetns(netns, { host, port });
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
  socket.allowHalfOpen = true;
  const done = new Promise<Outcome>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    socket.on('close', () => {
      if (!socket.errored) resolve({ reply: Buffer.concat(chunks).toString() });
    });
  });
  for (let i = 0; i < parts.length && !socket.destroyed; i++) {
    if (!socket.write(parts[i]!))
      await new Promise((r) => socket.once('drain', r).once('close', r));
    if (between) await between(i);
  }
  if (!socket.destroyed) socket.end();
  return done;
}

export const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/**
 * tshark writing every packet on `iface` in `netns` to `file`; stop() lets it write out what the
 * kernel still holds (until the file has not grown for a second), then ends it and gives its
 * closing report. Stopped at once, it drops the packets it has not read yet; that is the likely
 * reason (not a proven one) a busy machine's CI run once captured only three quarters of a 100 MB
 * transfer. A larger kernel buffer is no cure: with -B 128 or 256 a quiet machine's captures lacked
 * 12-15 % of the transfer every time, with no drop reported.
 */
export async function startCapture(netns: string, iface: string, file: string) {
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, 'tshark', '-q', '-i', iface, '-B', '64', '-w', file],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let ended = false;
  const exited = new Promise<void>((r) => child.once('exit', () => r())).then(() => {
    ended = true;
  });
  // Capturing once dumpcap has written the file's header, which it does after opening the
  // interface. tshark prints "Capturing on" before it even starts dumpcap: on a loaded host the
  // first packets after that line (a TLS handshake) were missed.
  for (let waited = 0; !(existsSync(file) && statSync(file).size > 0); waited += 50) {
    if (ended) throw new Error(`tshark ended: ${stderr}`);
    if (waited >= 30_000) throw new Error(`tshark did not start capturing in 30 s: ${stderr}`);
    await sleep(50);
  }
  return {
    async stop(): Promise<string> {
      const size = () => (existsSync(file) ? statSync(file).size : 0);
      for (let last = -1, waited = 0; size() !== last && waited < 30_000; waited += 1000) {
        last = size();
        await sleep(1000);
      }
      child.kill('SIGINT');
      await exited;
      return stderr.slice(stderr.indexOf('Capturing on')).trim();
    },
  };
}

/** The value of a Prometheus sample whose labels include every given one (sum over matches). */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
