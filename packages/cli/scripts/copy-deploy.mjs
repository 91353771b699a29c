#!/usr/bin/env node
// Copies the repository's deploy/ (manifests, CRDs, the pinned Gateway API CRDs) into dist/deploy,
// so the CLI package carries what `trellis install` applies (not the image builds under images/).
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const to = fileURLToPath(new URL('../dist/deploy/', import.meta.url));
rmSync(to, { recursive: true, force: true });
const images = fileURLToPath(new URL('../../../deploy/images', import.meta.url));
cpSync(from, to, {
  recursive: true,
  filter: (src) => !src.endsWith('.md') && src !== images,
});
