// The HBONE constants (DESIGN.md §2) and the HTTP/2 settings both ends announce.
import type { Settings } from 'node:http2';

const MiB = 1024 * 1024;

/** The port HBONE servers listen on (ztunnel in each pod netns, waypoints). */
export const HBONE_PORT = 15008;
/** Receive window of each stream: how much one tunnel may have in flight towards a slow reader. */
export const STREAM_WINDOW_BYTES = 4 * MiB;
/** Receive window of a whole connection, across its streams. */
export const CONNECTION_WINDOW_BYTES = 16 * MiB;
/** Largest DATA frame either end accepts. */
export const MAX_FRAME_BYTES = 1 * MiB;
/** The client opens at most this many concurrent streams on one connection, then opens another. */
export const MAX_STREAMS_PER_CONNECTION = 100;
/** The server allows twice the client's limit, so a conforming client never waits for a stream. */
export const SERVER_MAX_CONCURRENT_STREAMS = 2 * MAX_STREAMS_PER_CONNECTION;
/** A pooled connection without streams is closed after this long. */
export const IDLE_TIMEOUT_MS = 5 * 60_000;
/** Client: TCP connect plus TLS handshake must finish within this. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Server: a connection with no open stream (including one whose client never finished the HTTP/2
 * preface) is closed after this long. Longer than the client's pool release (IDLE_TIMEOUT_MS), so
 * a well-behaved client lets go first.
 */
export const SERVER_IDLE_TIMEOUT_MS = 10 * 60_000;
/** Server: after GOAWAY for idleness or shutdown, how long a client has to close before it is cut. */
export const CLOSE_GRACE_MS = 1_000;
/** Server: a TLS handshake must finish within this. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Server: how long graceful shutdown lets open streams finish. */
export const DRAIN_MS = 5_000;
/**
 * Node's per-session memory cap in MB (default 10). Outbound data waiting for the peer's window is
 * counted against it, so it must hold a connection window of queued data with room to spare.
 */
export const MAX_SESSION_MEMORY_MB = 64;

/** SETTINGS both ends send. The connection window is raised separately with setLocalWindowSize. */
export const H2_SETTINGS: Settings = {
  enablePush: false,
  initialWindowSize: STREAM_WINDOW_BYTES,
  maxFrameSize: MAX_FRAME_BYTES,
};
