// CA files in a directory (no-cluster mode, or a mounted `cacerts` Secret).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CA_FILES, type CaFileName, type CaStore } from './ca-files.js';

export function dirStore(dir: string): CaStore {
  return {
    location: `directory ${dir}`,
    async load() {
      const out: Partial<Record<CaFileName, string>> = {};
      for (const f of CA_FILES) {
        try {
          out[f] = await readFile(join(dir, f), 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
            throw new Error(`${join(dir, f)}: ${(err as Error).message}`, { cause: err });
        }
      }
      return out;
    },
    async save(files) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // The key last, so a crash never leaves a key without its certificate.
      for (const f of [...CA_FILES].sort((a) => (a === 'ca-key.pem' ? 1 : -1))) {
        const tmp = join(dir, `.${f}.tmp`);
        await writeFile(tmp, files[f], { mode: f === 'ca-key.pem' ? 0o600 : 0o644 });
        await rename(tmp, join(dir, f));
      }
    },
  };
}
