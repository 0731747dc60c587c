// The linter `npm test` runs: typescript-eslint's type-aware checks that catch real bugs
// (a promise nobody awaits, an `any` that switches the type checker off), eslint-plugin-regexp's
// checks for regular expressions that backtrack super-linearly, and the layer rule that keeps
// imports pointing down (scripts/eslint/layers.mjs).
import tseslint from "typescript-eslint";
import regexpPlugin from "eslint-plugin-regexp";
import { layersPlugin } from "./scripts/eslint/layers.mjs";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".vscode-test/**", "test-output/**", "demo-output/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  {
    files: ["contract/**/*.ts", "kernel/**/*.ts", "extension/**/*.ts", "webviews/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin, layers: layersPlugin, regexp: regexpPlugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "layers/imports-point-down": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports", disallowTypeAnnotations: false }],
      "@typescript-eslint/no-require-imports": "error",
    },
  },
  {
    // product code reads hostile input (prompts, CSV cells, file names): a regular expression that backtracks
    // super-linearly lets one long input (a pasted token) freeze the conductor; tests read our own output
    files: ["contract/**/*.ts", "kernel/**/*.ts", "extension/**/*.ts", "webviews/**/*.ts"],
    rules: {
      "regexp/no-super-linear-backtracking": "error",
      "regexp/no-super-linear-move": "error",
    },
  },
);
