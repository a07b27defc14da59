// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The worker's feature folders: what config/, redis/ and rate-limit/ sit below. */
const WORKER_FEATURES = [
  'popbill',
  'rendering',
  'jandi',
  'delivery',
  'digest',
  'ops',
  'admin',
  'health',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      sourceType: 'commonjs',
      globals: { process: 'readonly', module: 'writable', require: 'readonly' },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...apartFrom('apps/ingest', ['worker', 'jandi-sink']),
  ...apartFrom('apps/worker', ['ingest', 'jandi-sink']),
  // The worker's floors, lowest first: a folder never imports one that builds on it.
  ...workerFloor('config', [...WORKER_FEATURES, 'redis', 'metrics']),
  ...workerFloor('redis', WORKER_FEATURES),
  ...workerFloor('rate-limit', WORKER_FEATURES),
  ...workerFloor('popbill', ['jandi', 'rendering', 'delivery', 'digest']),
  ...workerFloor('jandi', ['delivery', 'digest', 'rendering']),
  ...workerFloor('rendering', ['delivery', 'digest']),
  ...workerFloor('retry', WORKER_FEATURES),
  ...workerFloor('shutdown', WORKER_FEATURES),
  ...workerFloor('ops', ['delivery', 'digest']),
  ...workerFloor('digest', ['delivery']),
  ...apartFrom('apps/jandi-sink', ['ingest', 'worker']),
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**'], message: 'libs/ never import an app.' }] },
      ],
    },
  },
  // Libs stand on each other in one order: contracts, then redis, then runtime.
  ...libFloor('contracts', ['redis', 'runtime', 'jandi-standin']),
  ...libFloor('redis', ['runtime', 'jandi-standin']),
);

/** Apps share code only through libs/: one app never imports another. */
function appPatterns(others) {
  return others.map((other) => ({
    group: [`**/${other}/src/**`, `**/apps/${other}/**`],
    message: 'Apps never import each other: move what both need to libs/.',
  }));
}

function apartFrom(app, others) {
  return [
    {
      files: [`${app}/**/*.ts`],
      rules: { 'no-restricted-imports': ['error', { patterns: appPatterns(others) }] },
    },
  ];
}

/** A worker folder that must not import `above`; the app boundary still holds (rules replace). */
function workerFloor(folder, above) {
  return [
    {
      files: [`apps/worker/src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...appPatterns(['ingest', 'jandi-sink']),
              ...above.map((other) => ({
                group: [`../${other}`, `../${other}/**`, `**/src/${other}/**`],
                message: `${folder}/ sits below ${other}/: it must not import it.`,
              })),
            ],
          },
        ],
      },
    },
  ];
}

/** A lib that must not import the libs in `above`; libs never import apps (rules replace). */
function libFloor(lib, above) {
  return [
    {
      files: [`libs/${lib}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { group: ['**/apps/**'], message: 'libs/ never import an app.' },
              ...above.map((other) => ({
                group: [`@app/${other}`, `@app/${other}/**`, `**/libs/${other}/**`],
                message: `libs/${lib} sits below libs/${other}: it must not import it.`,
              })),
            ],
          },
        ],
      },
    },
  ];
}
