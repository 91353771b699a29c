#!/usr/bin/env node
// `server`: the echo server (see ../README.md). Exit status 2 for bad flags, 1 when a port cannot
// be opened.
import { commandLine } from './command-line.js';
import { parseServerArgs, SERVER_FLAGS } from './server-config.pure.js';
import { startServer, type RunningServer } from './server/server.js';

const USAGE =
  "Usage: server [flags]\n\nEcho server compatible with Istio's echo app: answers HTTP/1.1, h2c, TLS, gRPC\n(proto.EchoTestService) and TCP with the request as it saw it.";

async function main(argv: string[]): Promise<number> {
  const config = commandLine('server', USAGE, SERVER_FLAGS, parseServerArgs, argv);
  if (typeof config === 'number') return config;
  // Signals are watched from the start: one that arrives while the ports open stops the server
  // as soon as they are open.
  let pending: string | undefined;
  let onSignal = (signal: string): void => void (pending ??= signal);
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (e) {
    process.stderr.write(`server: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    let draining = false;
    onSignal = (signal: string) => {
      if (draining) {
        console.log(`${signal} again: stopping now`);
        server.close();
        resolve();
        return;
      }
      draining = true;
      console.log(`${signal}: draining (until requests stop for 1s, at most 10s)`);
      void server.drain().then(resolve);
    };
    if (pending) onSignal(pending);
  });
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
process.exit();
