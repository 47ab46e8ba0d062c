// Doctor checks that need no network: configuration and target errors make every later check
// a skip, and `socat -V` output is read for the version and VSOCK support.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { runDoctor, type DoctorDeps } from "../../src/core/doctor/index.ts";
import { checkSocat } from "../../src/core/doctor/hypervisor-tools.ts";
import { ConfigError, UsageError } from "../../src/core/errors.ts";
import type { GuestConfig, LoadedConfig } from "../../src/core/config/types.ts";
import type { CommandRunner } from "../../src/core/vsock/command-stream.ts";

const io = { readFile: () => Buffer.alloc(0), readText: () => undefined, sshfp: async () => ({ fingerprints: [], warnings: [] }), log: () => {} };

function deps(load: () => LoadedConfig, resolve: DoctorDeps["resolve"] = () => { throw new Error("not reached"); }): DoctorDeps {
  return { io, load, resolve };
}

const twoGuests = { file: "/c.toml", guests: [{ name: "web1" }, { name: "web2" }] as GuestConfig[] };

describe("runDoctor before any connection", () => {
  test("an invalid configuration fails the first check, names the attribute, and skips the rest", async () => {
    const report = await runDoctor("web1", deps(() => {
      throw new ConfigError("invalid configuration /c.toml", [{ file: "/c.toml", path: "guests.web1.cid", message: "expected an integer" }]);
    }));
    assert.equal(report.ok, false);
    assert.equal(report.checks[0]!.id, "config");
    assert.equal(report.checks[0]!.status, "fail");
    assert.match(report.checks[0]!.detail, /guests\.web1\.cid: expected an integer/);
    assert.ok(report.checks.length >= 10);
    for (const c of report.checks.slice(1)) {
      assert.equal(c.status, "skip", c.id);
      assert.match(c.detail, /configuration found and valid/);
    }
  });

  test("no target with several configured guests fails and lists them", async () => {
    const report = await runDoctor(undefined, deps(() => twoGuests));
    assert.equal(report.checks[0]!.status, "fail");
    assert.match(report.checks[0]!.hint ?? "", /web1, web2/);
  });

  test("an unknown target fails the config check with the resolver's message and hint", async () => {
    const report = await runDoctor("nope", deps(() => twoGuests, () => { throw new UsageError('unknown target "nope"', { hint: "configured guests: web1, web2" }); }));
    assert.deepEqual([report.checks[0]!.status, report.checks[0]!.detail, report.checks[0]!.hint], ["fail", 'unknown target "nope"', "configured guests: web1, web2"]);
  });

  test("reports progress: each check starts before it is done, in order", async () => {
    const seen: string[] = [];
    await runDoctor("x", deps(() => twoGuests, () => { throw new UsageError("bad"); }), (p) => seen.push(p.kind === "start" ? `start ${p.id}` : `done ${p.result.id}`));
    assert.deepEqual(seen.slice(0, 3), ["start config", "done config", "done guarantees"]);
  });
});

function fakeRunner(out: { stdout: string; stderr?: string; code: number }): CommandRunner {
  return {
    where: "hypervisor test",
    async run() {
      // Like an SSH channel: stdin and stdout are separate directions.
      const stream = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
      const exited = new Promise<number | null>((r) => setImmediate(() => {
        stream.push(out.stdout);
        stream.push(null);
        r(out.code);
      }));
      return { stream, stderr: () => out.stderr ?? "", exited, kill: () => {} };
    },
  };
}

const SOCAT_V = "socat by Gerhard Rieger\nsocat version 1.7.4.4 on 06 Nov 2022\nfeatures:\n  #define WITH_STDIO 1\n";

describe("checkSocat", () => {
  const cases: [string, { stdout: string; stderr?: string; code: number }, string, RegExp][] = [
    ["passes with the version when VSOCK is compiled in", { stdout: SOCAT_V + "  #define WITH_VSOCK 1\n", code: 0 }, "pass", /socat version 1\.7\.4\.4, VSOCK supported/],
    ["fails when socat was built without VSOCK", { stdout: SOCAT_V + "  #undef WITH_VSOCK\n", code: 0 }, "fail", /1\.7\.4\.4 .*has no VSOCK support/],
    ["fails as not found when the shell cannot find it", { stdout: "", stderr: "sh: 1: /nonexistent/socat: not found\n", code: 127 }, "fail", /socat not found: `socat` on hypervisor test: sh: 1: \/nonexistent\/socat: not found/],
  ];
  for (const [name, out, status, detail] of cases) {
    test(name, async () => {
      const v = await checkSocat(fakeRunner(out), "socat", 5000);
      assert.equal(v.status, status);
      assert.match(v.detail, detail);
    });
  }
});
