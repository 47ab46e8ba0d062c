// The mode helpers the command line uses: modeFor, isGuestSshPort, spliceTargetProblem, and
// applyTunnelOverrides for --mode/--target (recomputed default, refused splice, auth for forward).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";
import {
  applyTunnelOverrides,
  isGuestSshPort,
  modeFor,
  spliceTargetProblem,
  type GuestConfig,
  type Mode,
} from "../../src/core/config/index.ts";
import { guestOf, HV, HV2, WEB1 } from "./_config-fixtures.ts";

const guest = guestOf;

describe("the pure helpers", () => {
  const T = (host: string, port: number) => ({ host, port });
  const table: Array<[string, ReturnType<typeof T> | undefined, number, Mode | undefined, Mode]> = [
    ["no target is splice", undefined, 22, undefined, "splice"],
    ["127.0.0.1:22 on port 22 is splice", T("127.0.0.1", 22), 22, undefined, "splice"],
    ["LOCALHOST:22 is splice (host names are case-insensitive)", T("LOCALHOST", 22), 22, undefined, "splice"],
    ["::1:2222 on port 2222 is splice", T("::1", 2222), 2222, undefined, "splice"],
    ["127.0.0.1:8080 is forward", T("127.0.0.1", 8080), 22, undefined, "forward"],
    ["db.internal:22 is forward", T("db.internal", 22), 22, undefined, "forward"],
    ["an explicit mode wins", T("127.0.0.1", 22), 22, "forward", "forward"],
  ];
  for (const [name, target, port, explicit, mode] of table) {
    test(`modeFor: ${name}`, () => assert.equal(modeFor(target, port, explicit), mode));
  }

  test("isGuestSshPort and spliceTargetProblem agree", () => {
    assert.equal(isGuestSshPort(T("127.0.0.1", 22), 22), true);
    assert.equal(isGuestSshPort(T("127.0.0.2", 22), 22), false);
    assert.equal(spliceTargetProblem(T("127.0.0.1", 22), 22), undefined);
    assert.equal(spliceTargetProblem(undefined, 2222), undefined);
    assert.equal(
      spliceTargetProblem(T("127.0.0.1", 8080), 22),
      `splice relays the guest's SSH port; a target like 127.0.0.1:8080 needs mode = "forward"`,
    );
  });
});

describe("applyTunnelOverrides (--mode, --target)", () => {
  const T8080 = { host: "127.0.0.1", port: 8080 };
  const T22 = { host: "127.0.0.1", port: 22 };
  const splice = () => guest(`${HV}\n${WEB1}`);
  const noAuth = () => guest(`[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\nssh_private_key = "/k"\n\n${WEB1}ssh_use_agent = false\n`);

  test("without overrides the guest is returned as resolved", () => {
    const g = splice();
    assert.equal(applyTunnelOverrides(g, {}), g);
    assert.equal(applyTunnelOverrides(g, { mode: undefined, target: undefined }), g);
  });

  const cases: Array<{ behaviour: string; guest: () => GuestConfig; mode?: Mode; target?: typeof T22; expect: Mode; origin?: string }> = [
    { behaviour: "--target 127.0.0.1:8080 turns a default splice guest into forward", guest: splice, target: T8080, expect: "forward" },
    {
      behaviour: "--target 127.0.0.1:22 turns a guest forward only by its target into splice",
      guest: () => guest(`${HV}\n${WEB1}target = "127.0.0.1:8080"\n`),
      target: T22,
      expect: "splice",
    },
    { behaviour: "--mode forward with --target 127.0.0.1:8080 is forward", guest: splice, mode: "forward", target: T8080, expect: "forward", origin: "--mode" },
    { behaviour: "--mode forward alone is forward", guest: splice, mode: "forward", expect: "forward", origin: "--mode" },
    {
      behaviour: "--mode splice on a guest on port 2222 without target is splice (the default target is its SSH)",
      guest: () => guest(`${HV}\n${WEB1}port = 2222\nmode = "forward"\n`),
      mode: "splice",
      expect: "splice",
      origin: "--mode",
    },
    {
      behaviour: "a mode the config set stays when only --target changes",
      guest: () => guest(`${HV}\n${WEB1}mode = "forward"\n`),
      target: T22,
      expect: "forward",
      origin: "guests.web1.mode",
    },
  ];
  for (const c of cases) {
    test(c.behaviour, () => {
      const before = c.guest();
      const g = applyTunnelOverrides(before, { mode: c.mode, target: c.target });
      assert.equal(g.mode, c.expect);
      assert.equal(g.modeOrigin, c.origin);
      if (c.target) {
        assert.deepEqual(g.target, c.target);
        assert.equal(g.targetOrigin, "--target");
      }
      assert.notEqual(g, before, "a new object; the resolved guest is left alone");
    });
  }

  const refusals: Array<{ behaviour: string; guest: () => GuestConfig; mode?: Mode; target?: typeof T22; message: string }> = [
    {
      behaviour: "--mode splice with --target 127.0.0.1:8080 is refused",
      guest: splice,
      mode: "splice",
      target: T8080,
      message: `web1: --mode: splice relays the guest's SSH port; a target like 127.0.0.1:8080 needs mode = "forward"`,
    },
    {
      behaviour: "--mode splice on a guest whose configured target is 127.0.0.1:8080 is refused",
      guest: () => guest(`${HV}\n${WEB1}target = "127.0.0.1:8080"\n`),
      mode: "splice",
      message: `web1: --mode: splice relays the guest's SSH port; a target like 127.0.0.1:8080 needs mode = "forward"`,
    },
    {
      behaviour: "--target 127.0.0.1:8080 where a hypervisor block set splice is refused naming that attribute",
      guest: () => guest(`${HV}\n${HV2}mode = "splice"\n\n${WEB1}hypervisor = "hv2"\n`),
      target: T8080,
      message: `web1: hypervisors.hv2.mode: splice relays the guest's SSH port; a target like 127.0.0.1:8080 needs mode = "forward"`,
    },
    {
      behaviour: "--mode forward on a splice guest without authentication is refused",
      guest: noAuth,
      mode: "forward",
      message: "web1: forward mode logs into the guest, but no authentication is configured for it",
    },
    {
      behaviour: "--target 127.0.0.1:8080 on a splice guest without authentication is refused",
      guest: noAuth,
      target: T8080,
      message: "web1: forward mode logs into the guest, but no authentication is configured for it",
    },
  ];
  for (const c of refusals) {
    test(c.behaviour, () => {
      assert.throws(
        () => applyTunnelOverrides(c.guest(), { mode: c.mode, target: c.target }),
        (e: unknown) => e instanceof UsageError && e.message === c.message && e.exitCode === 2 && typeof e.hint === "string",
      );
    });
  }

  test("the refusal's hint names the flag that fixes it", () => {
    try {
      applyTunnelOverrides(splice(), { mode: "splice", target: T8080 });
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof UsageError);
      assert.match(e.hint!, /--mode forward/);
    }
  });
});
