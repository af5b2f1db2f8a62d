import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import path from 'node:path';
import { realpathSync } from 'node:fs';

// Three projects: fast in-process tests (unit, vectors, relay integration),
// Svelte component tests in happy-dom, and the e2e suite, which drives the
// built extension in real Chromium and so runs its files one at a time
// (with any `*.browser.test.ts`, such as the browser-side security attacks).
export default defineConfig({
  test: {
    reporters: ['default', './tests/support/vector-summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          setupFiles: ['tests/support/i18n-setup.ts'],
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**', 'tests/view/**', 'tests/**/*.browser.test.ts', 'node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [svelte(), svelteTesting()],
        resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
        // node_modules may be a link to another checkout (a git worktree): let Vite serve from there too.
        server: { fs: { allow: [import.meta.dirname, realpathSync(path.join(import.meta.dirname, 'node_modules'))] } },
        test: {
          name: 'components',
          setupFiles: ['tests/support/i18n-setup.ts'],
          include: ['tests/view/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        test: {
          name: 'e2e',
          // The e2e files read sentences from the background's modules (in English, as the browsers run).
          setupFiles: ['tests/support/i18n-setup.ts'],
          include: ['tests/e2e/**/*.test.ts', 'tests/**/*.browser.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          globalSetup: ['tests/support/build-extension.ts'],
        },
      },
    ],
  },
});
