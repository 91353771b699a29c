#!/usr/bin/env node
// trellis-lb-controller CONFIG.json: the load-balancer controller of one local cluster (see
// controller.ts). `cluster create` starts it on the host; SIGTERM stops it, leaving its routes.
import { readFileSync } from 'node:fs';
import { LbController, type LbControllerConfig } from './controller.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: trellis-lb-controller CONFIG.json');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(file, 'utf8')) as LbControllerConfig;
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const abort = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    log(`${sig}: stopping`);
    abort.abort();
  });
await new LbController(cfg, log).run(abort.signal);
process.exit(0);
