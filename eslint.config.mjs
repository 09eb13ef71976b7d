// ESLint flat config: typescript-eslint's recommended rules over the sources, tests, bench and harness.
// Formatting is Prettier's job (npm run format), so no stylistic rules here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    rules: {
      // A leading underscore marks a binding kept on purpose (a destructured-away field, a required parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Plain JS: fake agents and fixtures run as CommonJS scripts, and config files tools load with require.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard's page (served as is to the browser): ES modules with the browser's globals.
    files: ['src/supervisor/ui/static/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    // Tests and the bench read untyped JSON (tool results, frames, result files) and poke at it; typing every shape would be noise.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests match escape sequences on purpose, and load compiled modules or spy on CommonJS module objects with require.
    files: ['test/**/*.ts'],
    rules: { 'no-control-regex': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
