#!/usr/bin/env node
// Entry point of `trellis-cni`, the chained CNI plugin (shipped as a single executable): reads the
// CNI_* environment and the network config on stdin, prints the result or the CNI error JSON.
import { existsSync, readFileSync } from 'node:fs';
import { callAgent } from './agent-call.js';
import { lookupPod } from './kube-lookup.js';
import { runPlugin } from './plugin.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

async function main(): Promise<void> {
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
