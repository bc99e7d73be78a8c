// Lets `node --test` import the page's modules. The server generates their ./contract.js from
// trainer/contract/ (GET /static/contract.js); here Python generates it the same way, once per
// test run, and every import of it is pointed at that file (contract-loader.js).
// GRADWATCH_CONTRACT_JS may name a file that holds it already (tests/test_frontend_js.py
// writes one); else GRADWATCH_PYTHON, .venv/bin/python or python3 runs the generator.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function generate() {
  const python = process.env.GRADWATCH_PYTHON
    || [join(ROOT, ".venv", "bin", "python")].find((p) => existsSync(p)) || "python3";
  const text = execFileSync(python, ["-m", "trainer.contract.pagecontract"],
    { cwd: ROOT, encoding: "utf8" });
  const file = join(mkdtempSync(join(tmpdir(), "gradwatch-contract-")), "contract.js");
  writeFileSync(file, text);
  process.on("exit", () => rmSync(dirname(file), { recursive: true, force: true }));
  return file;
}

// Set before the test files' processes start, so they inherit it and generate nothing.
process.env.GRADWATCH_CONTRACT_JS ||= generate();

register("./contract-loader.js", import.meta.url, {
  data: {
    contract: pathToFileURL(process.env.GRADWATCH_CONTRACT_JS).href,
    page: pathToFileURL(join(ROOT, "frontend", "contract.js")).href,
  },
});
