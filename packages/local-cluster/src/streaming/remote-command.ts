// exec and attach as the kubelet serves them, over SPDY (wait for the client's streams: error,
// stdin, stdout, stderr, resize) or WebSocket (numbered channels, open at once): run the command
// with the streams, report its outcome on the error stream, then close every stream and the
// connection.
import type { Duplex, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpdyServerConnection, SpdyStream } from './spdy-connection.js';
import { RstStatus } from './spdy-frames.pure.js';
import type { WsChannelConnection } from './ws-channels.js';
import { REMOTE_COMMAND_CHANNELS, statusProtocolOf } from './ws-channels.pure.js';
import {
  errorStreamPayload,
  expectedStreamCount,
  type CommandOutcome,
  type StreamOptions,
} from './stream-request.pure.js';
import { splitJsonObjects, termSize, type TermSize } from '../node-emulator/exec-command.pure.js';

/** How long the client has to open its streams (the kubelet's default). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** Terminal sizes from the resize stream, in order; the first may be awaited. */
export class ResizeQueue {
  private readonly pending: TermSize[] = [];
  private listener: ((s: TermSize) => void) | undefined;
  private waiter: ((s: TermSize | undefined) => void) | undefined;

  push(s: TermSize): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(s);
    } else if (this.listener) this.listener(s);
    else this.pending.push(s);
  }

  /** The next size, or undefined after timeoutMs. */
  async next(timeoutMs: number): Promise<TermSize | undefined> {
    if (this.pending.length) return this.pending.shift();
    return Promise.race([
      new Promise<TermSize | undefined>((resolve) => (this.waiter = resolve)),
      sleep(timeoutMs).then(() => {
        this.waiter = undefined;
        return undefined;
      }),
    ]);
  }

  /** Delivers every later size (and any still queued) to cb. */
  listen(cb: (s: TermSize) => void): void {
    this.listener = cb;
    for (const s of this.pending.splice(0)) cb(s);
  }
}

export interface CommandStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  resizes: ResizeQueue;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export async function serveRemoteCommand(
  conn: SpdyServerConnection,
  protocol: string,
  options: StreamOptions,
  command: readonly string[],
  run: (io: CommandStreams) => Promise<CommandOutcome>,
): Promise<void> {
  const byType = new Map<string, SpdyStream>();
  const want = expectedStreamCount(options, protocol);
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STREAM_CREATION_TIMEOUT_MS);
    conn.on('stream', (s) => {
      const type = s.header('streamType') ?? '';
      if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || byType.has(type)) {
        s.reset(RstStatus.ProtocolError);
        return;
      }
      byType.set(type, s);
      if (byType.size === want) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    conn.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!(await ready)) {
    if (!conn.isClosed)
      console.error('remote command: timed out waiting for client to create streams');
    conn.close();
    return;
  }
  await runRemoteCommand(conn, byType, protocol, options, command, run);
}

/** exec/attach over a WebSocket: the channels the request asked for, the error and resize ones. */
export async function serveRemoteCommandWs(
  conn: WsChannelConnection,
  wsProtocol: string,
  options: StreamOptions,
  command: readonly string[],
  run: (io: CommandStreams) => Promise<CommandOutcome>,
): Promise<void> {
  const open: Record<string, boolean> = { ...options, error: true, resize: true };
  const byType = new Map<string, Duplex>();
  REMOTE_COMMAND_CHANNELS.forEach((t, i) => {
    if (open[t]) byType.set(t, conn.channel(i));
  });
  // The kubelet's "connection established": an empty message on the lowest channel it writes to.
  conn.announce(options.stdout ? 1 : options.stderr ? 2 : 3);
  await runRemoteCommand(conn, byType, statusProtocolOf(wsProtocol), options, command, run);
}

interface StreamConnection {
  readonly isClosed: boolean;
  close(): void;
  on(event: 'close', listener: () => void): unknown;
}

async function runRemoteCommand(
  conn: StreamConnection,
  byType: Map<string, Duplex>,
  protocol: string,
  options: StreamOptions,
  command: readonly string[],
  run: (io: CommandStreams) => Promise<CommandOutcome>,
): Promise<void> {
  const abort = new AbortController();
  if (conn.isClosed) abort.abort();
  conn.on('close', () => abort.abort());
  const resizes = new ResizeQueue();
  const resize = byType.get('resize');
  if (resize) {
    let text = '';
    resize.setEncoding('utf8');
    resize.on('data', (chunk: string) => {
      const { objects, rest } = splitJsonObjects(text + chunk);
      text = rest.slice(-4096);
      for (const o of objects) {
        const size = termSize(o);
        if (size) resizes.push(size);
      }
    });
    resize.on('error', () => undefined);
  }
  const errorStream = byType.get('error');
  // The client half-closes streams it only reads from; consume them so they end cleanly.
  errorStream?.resume();
  for (const s of byType.values()) s.on('error', () => undefined);
  let outcome: CommandOutcome;
  try {
    outcome = await run({
      stdin: byType.get('stdin'),
      stdout: byType.get('stdout'),
      stderr: byType.get('stderr'),
      tty: options.tty,
      resizes,
      signal: abort.signal,
    });
  } catch (e) {
    outcome = { error: (e as Error).message };
  }
  if (conn.isClosed) return;
  await Promise.all(
    ['stdout', 'stderr'].map((t) => {
      const s = byType.get(t);
      return s && !s.writableEnded ? new Promise<void>((r) => s.end(() => r())) : undefined;
    }),
  );
  const payload = errorStreamPayload(protocol, outcome, command);
  if (errorStream && !errorStream.destroyed)
    await new Promise<void>((r) => (payload ? errorStream.end(payload, r) : errorStream.end(r)));
  byType.get('stdin')?.destroy();
  resize?.destroy();
  conn.close();
}
