import { defineConfig } from 'vitest/config';

// Two projects: fast in-process tests (unit, vectors, relay integration) and
// the e2e suite, which drives the built extension in real Chromium and so runs
// its files one at a time.
export default defineConfig({
  test: {
    reporters: ['default', './tests/support/vector-summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**', 'node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          globalSetup: ['tests/support/build-extension.ts'],
        },
      },
    ],
  },
});
