// ESLint for the web client: `npm run lint` (make lint), run before the unit tests.
//   src/**/*.ts   typescript-eslint's type-aware recommended rules (types from tsconfig.json)
//   e2e/*.mjs     ESLint's recommended JavaScript rules; Node globals, and the browser's for the
//                 functions the tests run in the page (page.evaluate, waitForFunction)
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'e2e/artifacts/'] },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['e2e/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
    },
  },
);
