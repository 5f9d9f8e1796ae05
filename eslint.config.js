// Type-aware lint for everything TypeScript in the repo (src, tests, examples, scripts, bench).
// `npm run lint`; CI runs it together with `npm run typecheck` and the formatter check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'node_modules/**', '**/dist/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // One program from tsconfig.json (it includes every linted file): 13 s of setup where the
    // project service took 16 s here.
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      // tsc's noUnusedLocals / noUnusedParameters (tsconfig.json, `npm run typecheck`) report these already.
      '@typescript-eslint/no-unused-vars': 'off',
      // Interface implementations (stores, links) are async without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // `String(unknown)` of a peer's or a stack's value is deliberate (an error text, a reason code).
      '@typescript-eslint/no-base-to-string': 'off',
      // Rejections pass on what was caught (already an Error, or the stack's own value) unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      // `let a!: T` assigned once after a closure that reads it (two ends referring to each other).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests drive fakes of untyped BLE stacks and poke at wire bytes: `any` is allowed there,
    // floating promises and exhaustiveness are not.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
