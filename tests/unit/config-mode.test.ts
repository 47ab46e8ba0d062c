// The tunnel mode in the configuration: its inheritance, its default from the target, the
// splice-needs-the-SSH-port rule, auth only for forward guests, and ad-hoc targets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  formatProblem,
  redactedView,
  resolveTarget,
  type LoadedConfig,
  type Mode,
} from "../../src/core/config/index.ts";
import { FILE, guestOf, HV, HV2, loadToml, problemsOf, WEB1 } from "./_config-fixtures.ts";

const load = loadToml;
const guest = guestOf;

describe("the mode a guest resolves to", () => {
  const cases: Array<{ behaviour: string; toml: string; mode: Mode; origin?: string }> = [
    { behaviour: "a guest without target defaults to splice", toml: `${HV}\n${WEB1}`, mode: "splice" },
    { behaviour: "a guest whose target is 127.0.0.1:22 defaults to splice", toml: `${HV}\n${WEB1}target = "127.0.0.1:22"\n`, mode: "splice" },
    { behaviour: "localhost on the SSH port is splice too", toml: `${HV}\n${WEB1}target = "localhost:22"\n`, mode: "splice" },
    { behaviour: "[::1] on the SSH port is splice too", toml: `${HV}\n${WEB1}target = "[::1]:22"\n`, mode: "splice" },
    {
      behaviour: "a target on the guest's own SSH port (port = 2222) is splice",
      toml: `${HV}\n${WEB1}port = 2222\ntarget = "127.0.0.1:2222"\n`,
      mode: "splice",
    },
    { behaviour: "a guest on port 2222 without target defaults to splice", toml: `${HV}\n${WEB1}port = 2222\n`, mode: "splice" },
    { behaviour: "a target on another port defaults to forward", toml: `${HV}\n${WEB1}target = "127.0.0.1:8080"\n`, mode: "forward" },
    { behaviour: "a target on another host defaults to forward", toml: `${HV}\n${WEB1}target = "10.0.0.5:22"\n`, mode: "forward" },
    {
      behaviour: "127.0.0.1:22 is not the SSH port of a guest on port 2222: forward",
      toml: `${HV}\n${WEB1}port = 2222\ntarget = "127.0.0.1:22"\n`,
      mode: "forward",
    },
    {
      behaviour: "a guest's own mode = \"forward\" wins over the default",
      toml: `${HV}\n${WEB1}mode = "forward"\n`,
      mode: "forward",
      origin: "guests.web1.mode",
    },
    {
      behaviour: "a hypervisor block's mode applies to its guests",
      toml: `${HV}\n${HV2}mode = "forward"\n\n${WEB1}hypervisor = "hv2"\n`,
      mode: "forward",
      origin: "hypervisors.hv2.mode",
    },
    {
      behaviour: "an inline hypervisor table's mode applies to its guest",
      toml: `${HV}\n${WEB1}hypervisor = { hostname = "hv3.example.com", mode = "forward" }\n`,
      mode: "forward",
      origin: "guests.web1.hypervisor.mode",
    },
    {
      behaviour: "the top-level [hypervisor]'s mode applies when the guest's block sets none",
      toml: `${HV}mode = "forward"\n\n${HV2}\n${WEB1}hypervisor = "hv2"\n`,
      mode: "forward",
      origin: "hypervisor.mode",
    },
    {
      behaviour: "the guest's hypervisor block wins over [hypervisor]",
      toml: `${HV}mode = "forward"\n\n${HV2}mode = "splice"\n\n${WEB1}hypervisor = "hv2"\n`,
      mode: "splice",
      origin: "hypervisors.hv2.mode",
    },
    {
      behaviour: "the guest's own mode wins over its hypervisor block",
      toml: `${HV}\n${HV2}mode = "forward"\n\n${WEB1}hypervisor = "hv2"\nmode = "splice"\n`,
      mode: "splice",
      origin: "guests.web1.mode",
    },
  ];
  for (const c of cases) {
    test(c.behaviour, () => {
      const g = guest(c.toml);
      assert.equal(g.mode, c.mode);
      assert.equal(g.modeOrigin, c.origin);
    });
  }

  test("a configured target records where it was set; the default one does not", () => {
    assert.equal(guest(`${HV}\n${WEB1}target = "127.0.0.1:8080"\n`).targetOrigin, "guests.web1.target");
    const plain = guest(`${HV}\n${WEB1}`);
    assert.equal(plain.targetOrigin, undefined);
    assert.deepEqual(plain.target, { host: "127.0.0.1", port: 22 });
  });

  test("a hypervisor carries the mode its blocks set, for its ad-hoc guests", () => {
    const g = guest(`${HV}mode = "forward"\n\n${WEB1}`);
    assert.equal(g.hypervisor.mode, "forward");
    assert.equal(g.hypervisor.modeOrigin, "hypervisor.mode");
    assert.equal(guest(`${HV}\n${WEB1}`).hypervisor.mode, undefined);
  });

  test("config show prints the resolved mode and where it came from", () => {
    const view = redactedView(guest(`${HV}\n${HV2}mode = "forward"\n\n${WEB1}hypervisor = "hv2"\n`));
    assert.equal(view.mode, "forward");
    assert.equal((view.origins as Record<string, unknown>).mode, "hypervisors.hv2.mode");
    const plain = redactedView(guest(`${HV}\n${WEB1}`));
    assert.equal(plain.mode, "splice");
    assert.equal((plain.origins as Record<string, unknown>).mode, "default");
  });
});

describe("mode validation", () => {
  const SPLICE_8080 = `splice relays the guest's SSH port; a target like 127.0.0.1:8080 needs mode = "forward"`;
  const cases: Array<{ behaviour: string; toml: string; path: string; message: string | RegExp }> = [
    {
      behaviour: "splice with target 127.0.0.1:8080 is refused naming guests.web1.mode",
      toml: `${HV}\n${WEB1}mode = "splice"\ntarget = "127.0.0.1:8080"\n`,
      path: "guests.web1.mode",
      message: SPLICE_8080,
    },
    {
      behaviour: "splice from a hypervisor block with a target 127.0.0.1:8080 is refused at the guest, saying where splice came from",
      toml: `${HV}\n${HV2}mode = "splice"\n\n${WEB1}hypervisor = "hv2"\ntarget = "127.0.0.1:8080"\n`,
      path: "guests.web1.mode",
      message: `${SPLICE_8080} (mode = "splice" comes from hypervisors.hv2.mode)`,
    },
    {
      behaviour: "splice from [hypervisor] with another host as target is refused",
      toml: `${HV}mode = "splice"\n\n${WEB1}target = "[2001:db8::1]:22"\n`,
      path: "guests.web1.mode",
      message: /a target like \[2001:db8::1\]:22 needs mode = "forward" \(mode = "splice" comes from hypervisor\.mode\)$/,
    },
    {
      behaviour: "splice with target 127.0.0.1:22 for a guest on port 2222 is refused",
      toml: `${HV}\n${WEB1}port = 2222\nmode = "splice"\ntarget = "127.0.0.1:22"\n`,
      path: "guests.web1.mode",
      message: /^splice relays the guest's SSH port; a target like 127\.0\.0\.1:22 needs mode = "forward"$/,
    },
    {
      behaviour: "an unknown mode is refused with a did-you-mean",
      toml: `${HV}\n${WEB1}mode = "splcie"\n`,
      path: "guests.web1.mode",
      message: `unknown mode "splcie" (did you mean "splice"?): expected "splice" or "forward"`,
    },
    {
      behaviour: "an unknown mode in a hypervisor block is refused with a did-you-mean",
      toml: `${HV}mode = "Forward"\n`,
      path: "hypervisor.mode",
      message: `unknown mode "Forward" (did you mean "forward"?): expected "splice" or "forward"`,
    },
    {
      behaviour: "a mode that is not a string is a wrong-type error naming the two values",
      toml: `${HV}\n${WEB1}mode = true\n`,
      path: "guests.web1.mode",
      message: `wrong type: expected "splice" or "forward", found a boolean`,
    },
    {
      behaviour: "a forward guest without authentication is refused",
      toml: `[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\nssh_private_key = "/k"\n\n${WEB1}mode = "forward"\nssh_use_agent = false\n`,
      path: "guests.web1",
      message: /^no authentication for the guest: .*\(forward mode logs into the guest; splice mode needs no guest credentials\)$/,
    },
    {
      behaviour: "a guest that is forward because of its target needs authentication",
      toml: `[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\nssh_private_key = "/k"\n\n${WEB1}target = "127.0.0.1:8080"\nssh_use_agent = false\n`,
      path: "guests.web1",
      message: /^no authentication for the guest/,
    },
    {
      behaviour: "the hypervisor still needs authentication when its guests are splice",
      toml: `[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\n\n${WEB1}mode = "splice"\n`,
      path: "hypervisor",
      message: /^no authentication for the hypervisor/,
    },
  ];
  for (const c of cases) {
    test(c.behaviour, () => {
      const problems = problemsOf(c.toml);
      const hit = problems.find(
        (p) => p.path === c.path && (typeof c.message === "string" ? p.message === c.message : c.message.test(p.message)),
      );
      assert.ok(hit, `no problem at ${c.path} matching ${c.message}; got:\n${problems.map(formatProblem).join("\n")}`);
      assert.equal(hit.file, FILE);
    });
  }

  test("a splice guest needs no authentication attributes", () => {
    // The guest is verified (known_hosts from [hypervisor]) but nothing anywhere authenticates it.
    const toml = `[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\nssh_private_key = "/k"\n\n${WEB1}ssh_use_agent = false\n`;
    assert.deepEqual(problemsOf(toml), []);
    const g = guest(toml);
    assert.equal(g.mode, "splice");
    assert.equal(g.hop.auth.useAgent, false);
    assert.equal(g.hop.auth.privateKeyFile, undefined);
  });

  test("a splice guest on a local hypervisor needs no authentication at all", () => {
    assert.deepEqual(problemsOf(`[hypervisor]\nlocal = true\n\n${WEB1}known_hosts_file = "/kh"\n`), []);
  });

  test("a splice guest still needs host key verification", () => {
    const problems = problemsOf(`[hypervisor]\nlocal = true\n\n${WEB1}`);
    assert.ok(problems.some((p) => p.path === "guests.web1" && /^no host key verification for the guest/.test(p.message)));
  });

  test("a malformed target is reported once, not again as a mode problem", () => {
    const problems = problemsOf(`${HV}\n${WEB1}mode = "splice"\ntarget = "8080"\n`);
    assert.deepEqual(problems.map((p) => p.path), ["guests.web1.target"]);
  });
});

describe("ad-hoc targets", () => {
  const opts = { env: { SSH_AUTH_SOCK: "/run/agent" }, home: "/home/u" };
  const cases: Array<{ behaviour: string; target: string; loaded: () => LoadedConfig; hypervisor?: string; mode: Mode; origin?: string }> = [
    { behaviour: "vsock/3 with no config is splice", target: "vsock/3", loaded: () => ({ guests: [] }), mode: "splice" },
    { behaviour: "vsock/3:2222 is splice", target: "vsock/3:2222", loaded: () => load(HV), mode: "splice" },
    { behaviour: "qemu/dom on the default hypervisor is splice", target: "qemu/dom", loaded: () => load(HV), mode: "splice" },
    {
      behaviour: "ad-hoc targets follow [hypervisor]'s mode = \"forward\"",
      target: "vsock%3",
      loaded: () => load(`${HV}mode = "forward"\n`),
      mode: "forward",
      origin: "hypervisor.mode",
    },
    {
      behaviour: "--hypervisor keeps the default hypervisor's mode",
      target: "qemu/dom",
      loaded: () => load(`${HV}mode = "forward"\n`),
      hypervisor: "alice@hv9",
      mode: "forward",
      origin: "hypervisor.mode",
    },
  ];
  for (const c of cases) {
    test(c.behaviour, () => {
      const g = resolveTarget(c.target, c.loaded(), { ...opts, hypervisorOverride: c.hypervisor });
      assert.equal(g.mode, c.mode);
      assert.equal(g.modeOrigin, c.origin);
    });
  }
});
