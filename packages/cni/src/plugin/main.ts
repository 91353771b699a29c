#!/usr/bin/env node
// Entry point of `trellis-cni`, the chained CNI plugin (shipped as a single executable): reads the
// CNI_* environment and the network config on stdin, prints the result or the CNI error JSON.
import { existsSync, readFileSync } from 'node:fs';
import { callAgent } from './agent-call.js';
import { lookupPod } from './kube-lookup.js';
import { runPlugin } from './plugin.js';
import { SUPPORTED_VERSIONS } from './cni-protocol.pure.js';

const USAGE = `Usage: trellis-cni (run by the container runtime, not by hand)

Trellis's chained CNI plugin. The runtime sets CNI_COMMAND (ADD, DEL, CHECK, VERSION, STATUS or GC),
CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS, and writes the network configuration (with
prevResult) on stdin; the plugin passes prevResult through and tells the node agent (trellis-cni-agent,
over /var/run/istio-cni/pluginevent.sock) about pods to enroll in the mesh.
Supported CNI versions: ${SUPPORTED_VERSIONS.join(', ')}.

Try: CNI_COMMAND=VERSION trellis-cni </dev/null
`;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!process.env.CNI_COMMAND && (arg === '--help' || arg === '-h' || arg === 'help')) {
    process.stdout.write(USAGE);
    return;
  }
  let stdin = '';
  try {
    stdin = readFileSync(0, 'utf8');
  } catch {
    // no stdin (a terminal or closed): commands that need it say so
  }
  const minLevel = LEVELS.info;
  const out = await runPlugin(process.env, stdin, {
    lookupPod,
    callAgent,
    exists: existsSync,
    log(level, msg, fields) {
      if (LEVELS[level] < minLevel) return;
      process.stderr.write(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          scope: 'cni-plugin',
          msg,
          ...fields,
        }) + '\n',
      );
    },
  });
  // Exit as soon as the answer is written: an idle keep-alive socket or a request still in flight
  // must never keep the runtime waiting.
  process.stdout.write(out.stdout ? out.stdout + '\n' : '', () => process.exit(out.exitCode));
}

void main();
