import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

// Imports point down the layers: renderer, preload, main → shared; service, cli → engine → shared;
// shared → nothing. The tsconfigs enforce it for types; these rules name the mistake in words.
const layer = (name, forbidden, extra = []) => ({
  group: forbidden.flatMap((f) => [`**/${f}`, `**/${f}/**`]),
  message: `${name} must not import from ${forbidden.join(', ')}: imports point down the layers (see architecture.md).`,
  ...extra,
});
const NODE_BUILTINS = { group: ['node:*', 'fs', 'path', 'child_process', 'os', 'net', 'http', 'crypto'], message: 'No Node in this layer.' };
const ELECTRON = { group: ['electron'], message: 'No Electron in this layer.' };

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'docs/**', 'live-iso/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='eval']", message: 'No eval.' }],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [layer('shared', ['engine', 'service', 'cli', 'main', 'preload', 'renderer']), NODE_BUILTINS, ELECTRON] }],
    },
  },
  {
    files: ['src/renderer/**'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { patterns: [layer('renderer', ['engine', 'service', 'cli', 'main', 'preload']), NODE_BUILTINS, ELECTRON] }],
    },
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [layer('preload', ['engine', 'service', 'cli', 'main', 'renderer']), NODE_BUILTINS] }],
    },
  },
  {
    files: ['src/main/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [layer('main', ['engine', 'service', 'cli', 'preload', 'renderer'])] }],
    },
  },
  {
    files: ['src/engine/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [layer('engine', ['service', 'cli', 'main', 'preload', 'renderer']), ELECTRON] }],
      // Commands go through the one runner (src/engine/exec), never a shell.
      'no-restricted-properties': ['error', { object: 'child_process', property: 'exec', message: 'Use the runner in src/engine/exec.' }],
    },
  },
  {
    files: ['src/service/**', 'src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [layer('service/cli', ['main', 'preload', 'renderer']), ELECTRON] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);
