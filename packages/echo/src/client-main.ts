#!/usr/bin/env node
// `client <url> [flags]`: sends requests from here (a pod, via `kubectl exec`) and prints what the
// echo server answered, one block per request (see ../README.md). Exit status 2 for bad flags,
// 1 when the request is invalid or any request fails (then nothing is printed on stdout).
import { parseClientArgs, CLIENT_FLAGS } from './client-args.pure.js';
import { clientOutput } from './fields.pure.js';
import { commandLine } from './command-line.js';
import { forwardEcho } from './forwarder/forward.js';

const USAGE =
  "Usage: client <url> [flags]\n\nEcho client compatible with Istio's: url is http://, https://, grpc:// or tcp://\nhost[:port][/path]; prints [N] Name=value lines per request and the answer as [N body] lines.";

// grpc-js names the server by its address when the target is an IP, which Node reports as a
// deprecation on stderr; the client's stderr is for its own errors.
process.noDeprecation = true;

async function main(argv: string[]): Promise<number> {
  const request = commandLine('client', USAGE, CLIENT_FLAGS, parseClientArgs, argv);
  if (typeof request === 'number') return request;
  try {
    const outputs = await forwardEcho(request);
    process.stdout.write(clientOutput(outputs));
    return 0;
  } catch (e) {
    process.stderr.write(`Error ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
