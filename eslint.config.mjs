import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports a folder of src/ may not use: `patterns` in gitignore syntax, matched against the import string. */
function layer(files, message, group) {
  return [{ files: [files], rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] } }];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
    },
  },
  // The layering (STYLE §1, §9): routes → controllers → services → models; utils is a leaf.
  ...layer('src/utils/**/*.ts', 'src/utils is a leaf: node built-ins, packages and src/config only', [
    '../*',
    '!../config',
    '!../config/*',
    'express',
  ]),
  ...layer('src/controllers/**/*.ts', 'controllers translate HTTP to service calls: no models, no database', [
    '**/models/*',
    '**/database/*',
  ]),
  ...layer('src/schemas/**/*.ts', 'schemas are request and response shapes: no services, no database, no HTTP', [
    '**/services/*',
    '**/services/**',
    '**/controllers/*',
    '**/routes/*',
    '**/middleware/*',
    '**/database/*',
  ]),
  ...layer('src/services/**/*.ts', 'services hold the rules and never see req/res', [
    'express',
    '**/controllers/*',
    '**/routes/*',
    '**/middleware/*',
  ]),
  ...layer('src/models/**/*.ts', 'models hold schema and indexes only', [
    '**/services/*',
    '**/services/**',
    '**/controllers/*',
    '**/routes/*',
    '**/middleware/*',
    '**/schemas/*',
  ]),
  ...layer('src/database/**/*.ts', 'the database layer serves the services, never the reverse', [
    '**/services/*',
    '**/services/**',
    '**/controllers/*',
    '**/routes/*',
    '**/middleware/*',
  ]),
  {
    files: ['src/**/*.ts'],
    rules: {
      // STYLE: short functions; a longer one says why in an eslint-disable comment.
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // supertest bodies are `any` by design; assertions on them are the point of the tests.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' } },
  },
  {
    files: ['src/scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
