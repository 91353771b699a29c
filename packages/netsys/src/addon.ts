// Loads the native addon (build/Release/netsys.node) on first use and declares its shape. The
// addon validates its arguments and throws Node-style system errors (code, errno, syscall).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SocketInNetnsOptions } from './socket-in-netns.js';

export interface NativeFdWatcher {
  start(readable: boolean, writable: boolean): void;
  stop(): void;
  close(): void;
}

export interface NativeAddon {
  FdWatcher: new (
    fd: number,
    onEvent: (status: number, readable: boolean, writable: boolean) => void,
  ) => NativeFdWatcher;
  socketInNetns(netns: string | number, options: SocketInNetnsOptions): number;
  originalDst(fd: number): { address: string; port: number; family: 4 | 6 };
  originalDst(fd: number, missingOk: true): { address: string; port: number; family: 4 | 6 } | null;
  setMark(fd: number, mark: number): void;
  getMark(fd: number): number;
  setTransparent(fd: number, on: boolean, family: 4 | 6): void;
  getTransparent(fd: number, family: 4 | 6): boolean;
  connectResult(fd: number, what: string): void;
  udpLeaveReusePort(fd: number): void;
  udpQueued(fd: number): number;
  seqpacketListen(path: string, backlog: number): number;
  seqpacketAccept(fd: number): number | null;
  seqpacketConnect(path: string): number;
  seqpacketSend(fd: number, data: Uint8Array, fds: number[]): boolean;
  seqpacketRecv(fd: number): { data: Buffer; fds: number[] } | 'again' | 'end';
}

let loaded: NativeAddon | undefined;

/**
 * The native addon; throws a clear error when it has not been built. Found from where the package
 * is (resolved by its name), so a component bundled into one file elsewhere finds it too.
 */
export function addon(): NativeAddon {
  if (loaded) return loaded;
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('@trellis/netsys'); // dist/index.js
    loaded = require(join(dirname(main), '../build/Release/netsys.node')) as NativeAddon;
  } catch (err) {
    throw new Error(
      '@trellis/netsys: cannot load the native addon build/Release/netsys.node ' +
        `(build it with "npm run build -w @trellis/netsys"): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return loaded;
}
