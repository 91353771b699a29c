// The control plane's scale benchmark (`npm run bench -w @trellis/control-plane`): for 1,000 pods
// (100 services) and 10,000 pods (1,000 services), 100 delta xDS clients, the initial sync and 20
// single-pod changes. Each scenario runs in its own process (so memory figures do not mix) with
// --expose-gc; the results are printed and written to bench-results.txt in the package directory.
// Arguments: pod counts to run (default: 1000 10000). A benchmark, not a test: nothing is asserted
// about time.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatResults } from './format-results.js';
import { writeSection } from './results-file.js';
import { runScenario, type ScenarioOptions, type ScenarioResult } from './scenario.js';

const CLIENTS = 100;
const STEPS = 20;

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--scenario') {
    const o = JSON.parse(args[1]!) as ScenarioOptions;
    const result = await runScenario(o);
    process.send!(result, () => process.disconnect());
    return;
  }
  const podCounts = args.length > 0 ? args.map(Number) : [1000, 10_000];
  if (podCounts.some((n) => !Number.isInteger(n) || n < 10))
    throw new Error(`arguments are pod counts (integers >= 10), got: ${args.join(' ')}`);
  const results: ScenarioResult[] = [];
  for (const pods of podCounts) {
    const o: ScenarioOptions = {
      pods,
      services: Math.max(1, Math.round(pods / 10)),
      clients: CLIENTS,
      steps: STEPS,
    };
    console.error(
      `running ${pods} pods / ${o.services} services / ${o.clients} clients / ${o.steps} changes ...`,
    );
    results.push(await inChild(o));
  }
  const text = formatResults(results, {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores available`,
  });
  process.stdout.write(text);
  const file = fileURLToPath(new URL('../../bench-results.txt', import.meta.url));
  await writeSection(file, 'scale', text);
  console.error(`written to ${file}`);
}

async function inChild(o: ScenarioOptions): Promise<ScenarioResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--scenario', JSON.stringify(o)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = once(child, 'message') as Promise<[ScenarioResult]>;
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the ${o.pods}-pod scenario failed (exit ${code})`);
  return (await result)[0];
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exitCode = 1;
});
