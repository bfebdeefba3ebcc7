import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'internal-packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    globalSetup: ['internal-packages/test-support/src/global-setup.ts'],
    // Integration files start real servers and child processes; each file has its own schema and Redis prefix, so
    // files run in parallel, but a test itself may legitimately wait for a token lifetime or two.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
