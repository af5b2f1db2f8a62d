import js from '@eslint/js';
import globals from 'globals';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.output/**', '.wxt/**', 'node_modules/**', 'artifacts/**', 'bench-results/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  {
    // The layer rule lives in .dependency-cruiser.cjs (npm run deps), which sees a .svelte file only after the
    // Svelte compiler has dropped its `import type` lines. This repeats the views' part of it so that type-only
    // imports from the background, the engine or the crypto are caught too.
    files: ['components/**/*.svelte', 'entrypoints/popup/**/*.svelte', 'entrypoints/sidepanel/**/*.svelte'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/lib/background/**', '**/lib/mls/**', '**/lib/crypto/**', '**/build/**'],
              message: 'Views reach the background through lib/protocol/channel.ts (see .dependency-cruiser.cjs).',
            },
          ],
        },
      ],
    },
  },
);
