// Causes of a Unix socket that would not open, from node's errno codes and socat's stderr alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyUnixFailure, explainUnixRelay, lastLine } from "../../src/core/vsock/unix-errors.ts";

const table: Array<[string, number | null, ReturnType<typeof classifyUnixFailure>]> = [
  ["ENOENT", null, "missing"],
  ['connect(5, AF=1 "/run/vm.sock", 14): No such file or directory', 1, "missing"],
  ["ECONNREFUSED", null, "refused"],
  ['connect(5, AF=1 "/run/vm.sock", 14): Connection refused', 1, "refused"],
  ["EACCES", null, "denied"],
  ["connect(…): Permission denied", 1, "denied"],
  ["ENOTSOCK", null, "not-socket"],
  ["bash: line 1: socat: command not found", 127, "no-socat"],
  ["something else", 1, "other"],
];
for (const [text, code, want] of table) {
  test(`classifies ${JSON.stringify(text)} as ${want}`, () => assert.equal(classifyUnixFailure(text, code), want));
}

test("lastLine drops socat's date and pid prefix", () => {
  assert.equal(lastLine("2024/01/02 03:04:05 socat[77] E connect(…): Connection refused\n"), "connect(…): Connection refused");
});

test("a socket that closed silently before any banner is explained as such, exit 6", () => {
  const e = explainUnixRelay("/run/x.sock")("guest u", "", 0);
  assert.equal(e.exitCode, 6);
  assert.match(e.message, /\/run\/x\.sock closed before the guest's SSH banner/);
});
