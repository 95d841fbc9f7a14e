// Lint: typed rules for the sources, and the layer boundaries of design/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const coreBoundaries = {
  'no-console': 'error',
  'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/main.ts ends the process.' }],
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['**/cli/**', '../cli/*'], message: 'The core never imports the CLI layer.' },
        { group: ['commander', 'picocolors', 'node:readline', 'node:readline/promises'], message: 'Terminal concerns belong in src/cli/.' },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'examples/**', 'bench/**', 'scripts/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ['src/**/*.ts'] })),
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  { files: ['src/**/*.ts'], ignores: ['src/cli/**'], rules: coreBoundaries },
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: ['test/**/*.ts'] })),
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }], '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
