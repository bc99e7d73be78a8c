// ESLint for the page's modules and their unit tests (`make lint`; docs/contributing.md).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "build/", ".venv/", "data/"] },
  js.configs.recommended,
  {
    files: ["frontend/**/*.js"],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.browser, Plotly: "readonly" },
    },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-self-compare": "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-shadow": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "object-shorthand": "error",
      "prefer-template": "error",
    },
  },
  {
    // Components get their root element and look up their parts inside it (util.js within);
    // only the boots, main.js and join.js (the access-code page), know the whole page. why.js
    // and summary.js still look up by global id (docs/contributing.md).
    files: ["frontend/*.js"],
    ignores: ["frontend/main.js", "frontend/join.js", "frontend/why.js", "frontend/summary.js"],
    rules: {
      "no-restricted-properties": ["error",
        ...["getElementById", "querySelector", "querySelectorAll"].map((property) => ({
          object: "document", property,
          message: "Take the component's root element and look inside it (util.js within).",
        }))],
    },
  },
  {
    files: ["frontend/tests/**/*.js", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
];
