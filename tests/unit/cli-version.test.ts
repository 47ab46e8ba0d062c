// `--version` names the version, the runtime, the platform and the commit, as `ssh -V` does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildCommit, runtimeName, versionLine } from "../../src/cli/version.ts";

test("the line carries version, runtime, platform and commit", () => {
  assert.equal(versionLine("0.1.0", "bun 1.4.5", "linux-x64", "abc1234"), "ssh2vsock 0.1.0 (bun 1.4.5, linux-x64, commit abc1234)");
});

test("a run from source without git says so instead of a commit", () => {
  assert.equal(versionLine("0.1.0", "deno 2.9.6", "linux-x64", "source"), "ssh2vsock 0.1.0 (deno 2.9.6, linux-x64, source)");
});

test("the runtime is Bun's or Deno's version, whichever runs", () => {
  assert.equal(runtimeName({ Bun: { version: "1.4.5" } }), "bun 1.4.5");
  assert.equal(runtimeName({ Deno: { version: { deno: "2.9.6" } } }), "deno 2.9.6");
  assert.match(runtimeName({}), /^node \d+/);
  assert.match(runtimeName(), /^(bun|deno) \d+\.\d+\.\d+/);
});

test("from a source checkout the commit is git's short HEAD", () => {
  assert.match(buildCommit(), /^[0-9a-f]{7,}$/);
});
