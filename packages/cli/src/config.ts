// The only module of the CLI that reads process.argv and process.env; everything else gets them
// passed in.

export function processArgv(): string[] {
  return process.argv.slice(2);
}

export function processEnv(): Readonly<Record<string, string | undefined>> {
  return { ...process.env };
}
