#!/usr/bin/env node
// Entry point of `trellis`.
import { clusterCommand } from './cluster-command.js';

const USAGE = `Usage: trellis <command> [flags]

Commands:
  cluster   create, delete, list local clusters and print their kubeconfig (trellis cluster --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'cluster') return clusterCommand(rest);
  process.stderr.write(`trellis: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`trellis: ${e.message}`);
    process.exitCode = 1;
  },
);
