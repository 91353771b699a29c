// Lint rules for the whole monorepo, including the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Apps are the deployable programs; libraries must never depend on them. Test-only packages hold
// harnesses for tests (netns clusters, spawned binaries): they may import anything, and only tests
// and test-support may import them.
const APPS = ['control-plane', 'ztunnel', 'waypoint', 'cni', 'cli', 'echo'];
const LIBRARIES = ['api', 'core', 'pki', 'netsys', 'xds', 'hbone', 'ca', 'local-cluster'];
const TEST_ONLY = ['testing'];

// Test-only code: tests beside the code (`*.test.ts`) and helpers used only by tests, in
// `test-support/` folders (shared ones: @trellis/core/test-support).
const TEST_FILES = ['packages/*/src/**/*.test.ts', 'packages/*/src/**/test-support/**/*.ts'];

// Pure modules hold translation logic only: no sockets, no files, no Kubernetes or gRPC client,
// no command line.
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

const NO_APPS = {
  group: APPS.flatMap((a) => [`@trellis/${a}`, `@trellis/${a}/*`]),
  message: 'Libraries never import apps (see docs/architecture.md).',
};
const NO_TEST_SUPPORT = {
  group: [
    ...TEST_ONLY.flatMap((t) => [`@trellis/${t}`, `@trellis/${t}/*`]),
    '@trellis/*/test-support',
    '**/test-support/**',
  ],
  message: 'Runtime code never imports test-only code (test-support/, @trellis/testing).',
};
const NO_GRPC = {
  group: ['@grpc/*'],
  message: 'Pure modules do no I/O: a gRPC client belongs at the edge, not in translation logic.',
};
const restrictImports = (patterns, paths = []) => ({
  'no-restricted-imports': ['error', { paths, patterns }],
});

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
    // Everything that ships: apps and libraries may not reach into test-only code.
    files: ['packages/*/src/**/*.ts'],
    ignores: [...TEST_FILES, ...TEST_ONLY.map((t) => `packages/${t}/**`)],
    rules: restrictImports([NO_TEST_SUPPORT]),
  },
  {
    // Library tests may not import apps either (the build order would be circular).
    files: LIBRARIES.map((l) => `packages/${l}/src/**/*.ts`),
    rules: restrictImports([NO_APPS]),
  },
  {
    files: LIBRARIES.map((l) => `packages/${l}/src/**/*.ts`),
    ignores: TEST_FILES,
    rules: restrictImports([NO_APPS, NO_TEST_SUPPORT]),
  },
  {
    files: PURE_GLOBS,
    ignores: TEST_FILES,
    rules: {
      ...restrictImports(
        [NO_APPS, NO_TEST_SUPPORT, NO_GRPC],
        [
          ...IMPURE_MODULES.map((name) => ({
            name,
            message: 'Pure modules do no I/O: pass data in, return data out.',
          })),
          ...['process', 'node:process'].map((name) => ({
            name,
            importNames: ['argv'],
            message: 'Pure modules do not read the command line: take settings as arguments.',
          })),
        ],
      ),
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'argv',
          message: 'Pure modules do not read the command line: take settings as arguments.',
        },
      ],
    },
  },
);
