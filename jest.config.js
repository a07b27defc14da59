// @ts-check
/**
 * Two projects, told apart by file name: `unit` (*.spec.ts) needs no Redis and starts none,
 * `redis` (*.redis-spec.ts, *.e2e-spec.ts) gets the Redis test/support/global-setup.ts finds or
 * starts. test/unit-specs.spec.ts keeps the names honest.
 */

/** @type {import('jest').Config} */
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
    '^.+\\.js$': ['ts-jest', { isolatedModules: true, tsconfig: { allowJs: true } }],
  },
  moduleNameMapper: {
    '^@app/contracts(|/.*)$': '<rootDir>/libs/contracts/src$1',
    '^@app/jandi-standin$': '<rootDir>/libs/jandi-standin/src',
    '^@app/redis$': '<rootDir>/libs/redis/src',
    '^@app/runtime(|/.*)$': '<rootDir>/libs/runtime/src$1',
  },
  testEnvironment: 'node',
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition)/)'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testRegex: '.*\\.spec\\.ts$',
      globalSetup: '<rootDir>/test/support/node-version.ts',
    },
    {
      ...shared,
      displayName: 'redis',
      testRegex: '.*\\.(redis-spec|e2e-spec)\\.ts$',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  maxWorkers: 2,
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
