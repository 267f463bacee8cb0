// Lint: typescript-eslint's recommended rules, and the boundary STYLE.md asks for: nothing under
// extension/core, the CLI or the debug adapter's runtime may import vscode.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-test/**', '.code-server/**', 'out/**', 'node_modules/**', 'test-results/**', '.bench/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['extension/core/**/*.ts', 'extension/cli/**/*.ts', 'extension/targets/**/*.ts', 'debug-adapter/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'core code stays free of vscode: it must run and be tested in plain Node' }] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
