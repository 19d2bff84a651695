import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'src/ledger/generated/**', 'data/**', '.scratch/**', '.bench/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Tests read arbitrary JSON bodies; typing every response shape would add noise, not safety.
    files: ['test/**', '**/*.test.ts', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Domain code depends on ports, never on the web framework or a concrete database driver.
    files: ['src/core/**', 'src/merkle/**', 'src/anchoring/**', 'src/exchange/**', 'src/supply-chain/**'],
    // The envelope signs and recovers with viem's secp256k1 (cryptography, not chain access).
    ignores: ['src/exchange/envelope.ts', 'src/exchange/envelope.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fastify', '@fastify/*'], message: 'Domain code must not import the web framework.' },
            { group: ['better-sqlite3', 'pg'], message: 'Domain code talks to storage through ports.' },
            { group: ['viem', 'viem/*'], message: 'Domain code talks to the chain through ports.' },
          ],
        },
      ],
    },
  },
);
