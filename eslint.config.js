import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * One lint run over the whole tree (`pnpm lint` → `eslint .`). Type-aware rules read each file's nearest
 * tsconfig.json through typescript-eslint's project service.
 */
export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/*.d.ts',
      '.data/**',
      '.turbo/**',
      'coverage/**',
      'bench-results/**',
      // written by `pnpm db:codegen` (kysely-codegen), checked for drift by scripts/check-generated.sh
      'packages/db/src/schema.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.shared.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // An async engine needs these: a dropped promise loses its error and its ordering.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
    },
  },
  {
    // Configuration is read in one env module per service/package (create-t3-turbo's restrictEnvAccess): defaults
    // and validation live in one place, and nothing reads a variable the env module does not know about.
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    ignores: [
      '**/src/env.ts',
      '**/src/cli/env.ts',
      // tests, test support and test packages set up and pass on their own environment
      '**/test/**',
      '**/testing/**',
      'packages/testkit/**',
      'packages/fault-tests/**',
      'packages/ha-tests/**',
      '**/vitest.config.ts',
      'vitest.shared.ts',
      // scripts are entry points: each reads its own few variables where it starts
      'scripts/**',
      '**/scripts/**',
      'docker/**',
      // the benchmark harness is a script too (scripts/bench, or packages/bench once it becomes a package)
      'packages/bench/**',
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: "Read configuration in this service's src/env.ts." },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ['process', 'node:process'].map((name) => ({
            name,
            importNames: ['env'],
            message: "Read configuration in this service's src/env.ts.",
          })),
        },
      ],
    },
  },
  {
    // Plain JavaScript (this file, bootstrap, the container health check) has no tsconfig: no type-aware rules.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
  {
    // The container health check prints its verdict for `docker inspect`.
    files: ['docker/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['scripts/**', '**/scripts/**', '**/cli/**', 'packages/bench/src/**'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
