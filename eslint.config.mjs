// The linter `npm test` runs: typescript-eslint's type-aware checks that catch real bugs
// (a promise nobody awaits, an `any` that switches the type checker off) and the layer rule
// that keeps imports pointing down (scripts/eslint/layers.mjs).
import tseslint from "typescript-eslint";
import { layersPlugin } from "./scripts/eslint/layers.mjs";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".vscode-test/**", "test-output/**", "demo-output/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  {
    files: ["contract/**/*.ts", "kernel/**/*.ts", "extension/**/*.ts", "webviews/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin, layers: layersPlugin },
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
);
