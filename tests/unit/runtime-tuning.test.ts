// Start-up tuning: which invocations re-execute, with what environment, and how the user's own
// environment comes back afterwards (for `run`'s command and every other child).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { commandOf, OPT_OUT, RESTORE_MARK, restoreEnvironment, tunedEnvironment } from "../../src/cli/runtime-tuning.ts";

const TUNABLE = "glibc.cpu.x86_rep_movsb_threshold=4194304";

describe("commandOf", () => {
  test("finds the command after global options, skipping the values of valued options", () => {
    assert.equal(commandOf(["-c", "tunnel", "proxy", "g1"]), "proxy");
    assert.equal(commandOf(["--config", "x.toml", "-vv", "--hypervisor", "run", "tunnel"]), "tunnel");
    assert.equal(commandOf(["--log-format", "json", "run", "--", "sh"]), "run");
  });

  test("has no command for --version, help or an empty line", () => {
    assert.equal(commandOf(["--version"]), undefined);
    assert.equal(commandOf(["-V"]), undefined);
    assert.equal(commandOf([]), undefined);
    assert.equal(commandOf(["--", "tunnel"]), undefined);
  });
});

describe("tunedEnvironment", () => {
  test("tunes tunnel, proxy and run, and records that the user had neither setting", () => {
    for (const cmd of ["tunnel", "proxy", "run"]) {
      const next = tunedEnvironment({ PATH: "/bin" }, [cmd, "g1"]);
      assert.ok(next, cmd);
      assert.equal(next.PATH, "/bin");
      assert.equal(next.GLIBC_TUNABLES, TUNABLE);
      assert.equal(next.MIMALLOC_PURGE_DELAY, "10000");
      assert.deepEqual(JSON.parse(next[RESTORE_MARK]!), { GLIBC_TUNABLES: null, MIMALLOC_PURGE_DELAY: null });
    }
  });

  test("leaves quick commands alone: --version, doctor, keyscan, config, completions", () => {
    for (const args of [["--version"], ["doctor", "g1"], ["keyscan", "g1"], ["config", "show"], ["completions", "bash"], ["sshfp", "h"]]) {
      assert.equal(tunedEnvironment({}, args), undefined, args.join(" "));
    }
  });

  test("keeps the user's glibc tunables and adds ours after them", () => {
    const next = tunedEnvironment({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }, ["tunnel"]);
    assert.equal(next?.GLIBC_TUNABLES, `glibc.malloc.arena_max=2:${TUNABLE}`);
    assert.equal(JSON.parse(next![RESTORE_MARK]!).GLIBC_TUNABLES, "glibc.malloc.arena_max=2");
  });

  test("never overrides a setting the user chose, and does nothing when both are chosen", () => {
    const mine = { GLIBC_TUNABLES: "glibc.cpu.x86_rep_movsb_threshold=8192", MIMALLOC_PURGE_DELAY: "0" };
    assert.equal(tunedEnvironment(mine, ["tunnel"]), undefined);
    const next = tunedEnvironment({ MIMALLOC_PURGE_DELAY: "0" }, ["proxy", "g1"]);
    assert.equal(next?.MIMALLOC_PURGE_DELAY, "0");
    assert.deepEqual(Object.keys(JSON.parse(next![RESTORE_MARK]!)), ["GLIBC_TUNABLES"]);
  });

  test("does not re-execute twice, nor when the user opts out", () => {
    assert.equal(tunedEnvironment({ [RESTORE_MARK]: "{}" }, ["tunnel"]), undefined);
    assert.equal(tunedEnvironment({ [OPT_OUT]: "off" }, ["tunnel"]), undefined);
  });
});

describe("restoreEnvironment", () => {
  test("puts back exactly what the user had: removes what was absent, restores what was set", () => {
    const next = tunedEnvironment({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2", HOME: "/root" }, ["run", "--", "env"])!;
    assert.equal(restoreEnvironment(next), true);
    assert.deepEqual(next, { GLIBC_TUNABLES: "glibc.malloc.arena_max=2", HOME: "/root" });
  });

  test("touches only the tuned names, whatever the mark claims", () => {
    const env = { [RESTORE_MARK]: JSON.stringify({ PATH: null, MIMALLOC_PURGE_DELAY: null }), PATH: "/bin", MIMALLOC_PURGE_DELAY: "10000" };
    assert.equal(restoreEnvironment(env), true);
    assert.deepEqual(env, { PATH: "/bin" });
  });

  test("is a no-op for a process that was not re-executed", () => {
    const env = { PATH: "/bin" };
    assert.equal(restoreEnvironment(env), false);
    assert.deepEqual(env, { PATH: "/bin" });
  });
});
