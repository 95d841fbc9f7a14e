// Lint: typed rules for the sources, and the layer boundaries of design/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const edgePatterns = [
  { group: ['**/cli/**', '../cli/*'], message: 'The core never imports the CLI layer.' },
  { group: ['commander', 'picocolors', 'node:readline', 'node:readline/promises'], message: 'Terminal concerns belong in src/cli/.' },
];

/** no-restricted-imports for a layer: the CLI edge, plus the src/ folders it must not reach up into. */
function layerImports(folders, message) {
  const pattern = { regex: `^(\\.\\./)+(${folders.map((folder) => (folder.includes('/') ? folder : `${folder}/`)).join('|')})`, message };
  return ['error', { patterns: [...edgePatterns, ...(folders.length > 0 ? [pattern] : [])] }];
}

const coreBoundaries = {
  'no-console': 'error',
  'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/main.ts ends the process.' }],
  'no-restricted-imports': layerImports([], ''),
};

// Arrows point inward (AGENTS.md): cli → loop → {agents, prompt, report} → {store, workspace, runner, config} → core.
// The shared vocabulary (outcomes, trial records, "better in this direction") lives in src/core/.
const innerLayers = [
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': layerImports(['loop', 'report', 'agents', 'prompt', 'project', 'store', 'workspace', 'runner', 'config/(?!constants\\.js$)'], 'src/core/ is the shared vocabulary: it imports no other layer (config/constants.js aside).') },
  },
  {
    files: ['src/store/**/*.ts', 'src/workspace/**/*.ts', 'src/runner/**/*.ts', 'src/config/**/*.ts'],
    rules: { 'no-restricted-imports': layerImports(['loop', 'report', 'agents', 'prompt', 'project'], 'store, workspace, runner and config are inner layers: what they share with the loop lives in src/core/.') },
  },
  {
    files: ['src/agents/**/*.ts', 'src/prompt/**/*.ts'],
    rules: { 'no-restricted-imports': layerImports(['loop', 'report', 'project'], 'Agents and prompts never import the loop or the reports: what they share lives in src/core/.') },
  },
  {
    files: ['src/report/**/*.ts'],
    rules: { 'no-restricted-imports': layerImports(['loop', 'agents', 'prompt', 'project'], 'Reports render records; the loop calls them, never the reverse.') },
  },
];

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
  ...innerLayers,
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: ['test/**/*.ts'] })),
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }], '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
