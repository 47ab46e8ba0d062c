// Arguments sent to the hypervisor run through its user's login shell (sshd's `shell -c`), which
// may be dash, bash, zsh or fish: each quoted command is run under all four, as sshd would.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/core/errors.ts";
import { shellQuote } from "../../src/core/vsock/shell-quote.ts";

const SHELLS = ["dash", "bash", "zsh", "fish"];
const dir = mkdtempSync(join(tmpdir(), "s2v-quote-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const mark = join(dir, "INJECTED");

// A program that prints its arguments as JSON, so what the shell passed on is compared exactly.
const PRINT_ARGS = ["node", "-e", "console.log(JSON.stringify(process.argv.slice(1)))"];

/** Runs `argv`, quoted, the way sshd runs an exec request: `shell -c COMMAND`. */
function runUnder(shell: string, argv: string[]): string[] {
  const command = [...PRINT_ARGS, ...argv].map(shellQuote).join(" ");
  const out = execFileSync(shell, ["-c", command], { cwd: dir, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir }, encoding: "utf8" });
  return JSON.parse(out) as string[];
}

describe("shellQuote under dash, bash, zsh and fish", () => {
  for (const shell of SHELLS) {
    test(`${shell} is installed (the test needs it)`, () => {
      assert.doesNotThrow(() => execFileSync("sh", ["-c", `command -v ${shell}`], { stdio: "ignore" }), `${shell} missing`);
    });
  }

  const hostile = [
    "web1",
    "VSOCK-CONNECT:3:22",
    "--domain=web3",
    "a b",
    `$(touch ${mark})`,
    `\`touch ${mark}\``,
    `x; touch ${mark} #`,
    `x" ; touch ${mark} #`,
    `(touch ${mark})`,
    "$HOME",
    "~",
    "*",
    "{a,b}",
    "%h %p",
    "a\nb",
    "",
  ];
  for (const shell of SHELLS) {
    test(`${shell} receives every argument unchanged and runs nothing in it`, () => {
      assert.deepEqual(runUnder(shell, hostile), hostile);
      assert.equal(existsSync(mark), false, "an argument ran a command");
    });
  }

  // Under fish, `\'` inside single quotes is an escaped quote: `'x\'\''; touch …'` ends the
  // string early and runs `touch`. No quoting works for every shell, so these are refused.
  for (const arg of [`x\\'; touch ${mark} #`, "x\\", "it's", `a'b`, "\\"]) {
    test(`refuses ${JSON.stringify(arg)} (a backslash or single quote) before anything is sent`, () => {
      assert.throws(() => shellQuote(arg), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && !e.message.includes("\n"));
    });
  }
});
