// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);

/** Apps share code only through libs/: one app never imports another. */
function apartFrom(app, others) {
  return [
    {
      files: [`${app}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: others.map((other) => ({
              group: [`**/${other}/src/**`, `**/apps/${other}/**`],
              message: 'Apps never import each other: move what both need to libs/.',
            })),
          },
        ],
      },
    },
  ];
}
