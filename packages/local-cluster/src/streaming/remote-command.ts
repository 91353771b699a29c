// exec and attach over one SPDY connection, as the kubelet serves them: wait for the client's
// streams (error, stdin, stdout, stderr, resize), run the command with them, report its outcome on
// the error stream, then close every stream and the connection.
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpdyServerConnection, SpdyStream } from './spdy-connection.js';
import { RstStatus } from './spdy-frames.pure.js';
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
  const abort = new AbortController();
  conn.on('close', () => abort.abort());
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
