/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/common', '<rootDir>/gateway', '<rootDir>/subgraphs'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // The slowest files first even without Jest's cache of durations (test/support/sequencer.js).
  testSequencer: '<rootDir>/test/support/sequencer.js',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  testTimeout: 120000,
  // Two workers on two cores: most suites wait on MariaDB, HTTP and child processes as much as they compute.
  maxWorkers: 2,
  // The path aliases of tsconfig.json (@civic/common/..., @civic/formats/..., @civic/gateway/..., @civic/subgraphs/...).
  moduleNameMapper: {
    '^@civic/common/(.*)$': '<rootDir>/common/src/$1',
    '^@civic/formats/(.*)$': '<rootDir>/formats/$1',
    '^@civic/gateway/(.*)$': '<rootDir>/gateway/src/$1',
    '^@civic/subgraphs$': '<rootDir>/subgraphs/index.ts',
    '^@civic/subgraphs/(.*)$': '<rootDir>/subgraphs/$1',
  },
};
