// Lint rules for the whole monorepo, including the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Apps are the deployable programs; libraries must never depend on them.
const APPS = ['control-plane', 'ztunnel', 'waypoint', 'cni', 'cli', 'echo'];
const LIBRARIES = ['api', 'core', 'pki', 'netsys', 'xds', 'hbone', 'ca', 'local-cluster'];

// Pure modules hold translation logic only: no sockets, no files, no Kubernetes client.
const PURE_GLOBS = [
  'packages/*/src/**/collections/**/*.ts',
  'packages/*/src/**/translate/**/*.ts',
  'packages/*/src/**/rules/**/*.ts',
  'packages/*/src/**/router/**/*.ts',
  'packages/*/src/**/rbac/**/*.ts',
  'packages/*/src/**/convert/**/*.ts',
  'packages/*/src/**/*.pure.ts',
];
const IMPURE_MODULES = [
  'node:net',
  'net',
  'node:fs',
  'fs',
  'node:fs/promises',
  'fs/promises',
  '@kubernetes/client-node',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'packages/api/src/gen/**',
      'packages/api/proto-deps/**',
      '.nx/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    files: LIBRARIES.map((l) => `packages/${l}/src/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: APPS.flatMap((a) => [`@trellis/${a}`, `@trellis/${a}/*`]),
              message: 'Libraries never import apps (see docs/architecture.md).',
            },
          ],
        },
      ],
    },
  },
  {
    files: PURE_GLOBS,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IMPURE_MODULES.map((name) => ({
            name,
            message: 'Pure modules do no I/O: pass data in, return data out.',
          })),
          patterns: [
            {
              group: APPS.flatMap((a) => [`@trellis/${a}`, `@trellis/${a}/*`]),
              message: 'Libraries never import apps.',
            },
          ],
        },
      ],
    },
  },
);
