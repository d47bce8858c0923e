// `npm run lint`: the type-checked recommended rules of typescript-eslint over the TypeScript (sources and tests),
// the recommended rules over the JavaScript scripts. `npm test` runs it after the build (the types of a package's
// dependencies come from their built `dist/`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TESTS = ['**/test/**/*.ts', 'e2e/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/dist/', '**/node_modules/', 'dist-packages/', '**/coverage/'] },
  {
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node, sourceType: 'module' },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A collector, a sync or a server that drops a promise loses its error: every promise is awaited, caught or
      // marked `void` on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `match[1]!`, `list[0]!`: the code marks index reads it knows to be present, as `noUncheckedIndexedAccess` would ask.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // A package's own version is read from its package.json, which lies outside `rootDir`.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['/package\\.json$'] }],
      // An async function without `await` still turns a throw into a rejection, which its callers handle.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The config server's console runs in the browser: its own tsconfig (lib DOM, ES modules).
    files: ['config-server/ui/src/**/*.ts'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { project: './config-server/ui/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: TESTS,
    rules: {
      // Tests read JSON bodies and parsed files as `any` and check them with `expect`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests send and expect control characters to check that they are escaped.
      'no-control-regex': 'off',
    },
  },
);
