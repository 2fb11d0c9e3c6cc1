// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import lit from 'eslint-plugin-lit';
import globals from 'globals';

/** Names the core must never reach: it runs in Node, a Worker and the page alike. */
const coreForbiddenGlobals = [
  'window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'indexedDB',
  'IDBFactory', 'HTMLElement', 'customElements', 'fetch', 'XMLHttpRequest', 'Worker',
].map((name) => ({ name, message: 'src/core is pure: no DOM, storage, network or UI.' }));

export default tseslint.config(
  { ignores: ['dist/', 'bench/dist/', 'node_modules/', '.data/', 'test-results/', 'playwright-report/', 'dev-dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  lit.configs['flat/recommended'],
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node, ...globals.worker },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-throw-literal': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...coreForbiddenGlobals],
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/storage/**', '**/ui/**', '**/services/**', '**/workers/**', '**/pwa/**'], message: 'src/core imports nothing above it.' },
          { group: ['lit', 'lit/*', 'idb', 'comlink', 'node:*', 'fs', 'path'], message: 'src/core is pure TypeScript with no runtime dependencies.' },
        ],
      }],
    },
  },
  {
    files: ['src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/ui/**', '**/services/**', '**/workers/**'], message: 'storage sits below services and UI.' }],
      }],
    },
  },
  {
    files: ['src/ui/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/core/**', '**/workers/**', '**/storage/**'], message: 'The UI calls services; it never does byte work or touches storage itself.' }],
      }],
    },
  },
  {
    files: ['src/services/**/*.ts', 'src/workers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/ui/**', '**/pwa/**'], message: 'services and workers never import UI.' }],
      }],
    },
  },
);
