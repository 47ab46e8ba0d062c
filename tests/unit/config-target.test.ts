// Targets (DESIGN.md "Targets"): configured names, every ad-hoc form including `%` and `./`,
// the default and --hypervisor hypervisors, and what an ad-hoc guest hop inherits.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";
import {
  guestNames,
  parseHypervisorOverride,
  resolveTarget,
  type LoadedConfig,
  type TargetOptions,
} from "../../src/core/config/index.ts";
import { loadToml } from "./_config-fixtures.ts";

const NONE: LoadedConfig = { guests: [] };
const HOME = "/home/u";

const CONFIG = loadToml(`
[hypervisor]
hostname = "hv1.example.com"
port = 2222
username = "ops"
known_hosts_file = "/etc/kh"
ssh_private_key = "/keys/hv"
connect_timeout = 7

[hypervisors.hv2]
hostname = "hv2.example.com"

[guests.Web1]
cid = 3
hostname = "web1.example.com"

[guests.db]
cid = 4
hostname = "db.example.com"
hypervisor = "hv2"
`);

const opts = (o: Partial<TargetOptions> = {}): TargetOptions => ({ env: { SSH_AUTH_SOCK: "/run/agent" }, home: HOME, ...o });

describe("ad-hoc target forms", () => {
  const forms: Array<[string, unknown]> = [
    ["vsock/3", { kind: "vsock", cid: 3, port: 22 }],
    ["vsock/3:2222", { kind: "vsock", cid: 3, port: 2222 }],
    ["vsock%3", { kind: "vsock", cid: 3, port: 22 }],
    ["vsock%4294967294:1", { kind: "vsock", cid: 4294967294, port: 1 }],
    ["qemu/web3", { kind: "libvirt", domain: "web3", uri: "any", port: 22 }],
    ["qemu%web3", { kind: "libvirt", domain: "web3", uri: "any", port: 22 }],
    ["qemu:system/5f1c-uuid", { kind: "libvirt", domain: "5f1c-uuid", uri: "system", port: 22 }],
    ["qemu:session%7", { kind: "libvirt", domain: "7", uri: "session", port: 22 }],
    ["qemu-system/web3", { kind: "libvirt", domain: "web3", uri: "system", port: 22 }],
    ["qemu-system%web3", { kind: "libvirt", domain: "web3", uri: "system", port: 22 }],
    ["qemu-session%7", { kind: "libvirt", domain: "7", uri: "session", port: 22 }],
    ["qemu-session/5f1c-uuid", { kind: "libvirt", domain: "5f1c-uuid", uri: "session", port: 22 }],
    ["vsock-mux/run/fc/v.sock", { kind: "vsock-mux", path: "/run/fc/v.sock", port: 22 }],
    ["vsock-mux%./v.sock", { kind: "vsock-mux", path: "./v.sock", port: 22 }],
    ["unix/run/vm.sock", { kind: "unix", path: "/run/vm.sock" }],
    ["unix/./vm.sock", { kind: "unix", path: "./vm.sock" }],
    ["unix%run/vm.sock", { kind: "unix", path: "/run/vm.sock" }],
  ];
  for (const [target, transport] of forms) {
    test(`${target} is ${JSON.stringify(transport)}`, () => {
      const g = resolveTarget(target, NONE, opts());
      assert.deepEqual(g.transport, transport);
      assert.equal(g.name, target);
      assert.equal(g.hop.hostname, target, "the target string as given is the host key name");
    });
  }

  test("--port sets the port when the target does not, and never overrides vsock/CID:PORT", () => {
    assert.deepEqual(resolveTarget("vsock/3", NONE, opts({ port: 2022 })).transport, { kind: "vsock", cid: 3, port: 2022 });
    assert.deepEqual(resolveTarget("vsock/3:23", NONE, opts({ port: 2022 })).transport, { kind: "vsock", cid: 3, port: 23 });
    assert.equal(resolveTarget("qemu/web3", NONE, opts({ port: 2022 })).hop.port, 2022);
  });

  test("the vsock port is 22, not the hypervisor's inherited port", () => {
    const g = resolveTarget("vsock/9", CONFIG, opts());
    assert.deepEqual(g.transport, { kind: "vsock", cid: 9, port: 22 });
    assert.equal(g.hypervisor.port, 2222);
  });

  const bad: Array<[string, RegExp]> = [
    ["web9", /unknown target "web9"/],
    ["vsock/", /nothing after/],
    ["vsock/abc", /expected vsock\/CID/],
    ["vsock/2", /cid 2 is outside/],
    ["vsock/3:0", /port 0 is outside/],
    ["vsock/3:70000", /port 70000 is outside/],
    ["tcp/3", /unknown target/],
    ["qemu/x\\'; touch /tmp/p #", /a libvirt domain is a name .*, a UUID or an ID/],
    ["qemu%$(id)", /a libvirt domain is a name/],
    ["qemu-system%a b", /a libvirt domain is a name/],
    ["qemu:session/it's", /a libvirt domain is a name/],
    ["qemu-system:session/web3", /unknown target/],
    ["web\u001b[2J", /^unknown target "web\\u001b\[2J"$/],
  ];
  for (const [target, message] of bad) {
    test(`refuses ${JSON.stringify(target)} with a usage error listing the forms`, () => {
      assert.throws(
        () => resolveTarget(target, CONFIG, opts()),
        (e: unknown) => e instanceof UsageError && e.exitCode === 2 && message.test(e.message) && /vsock\/CID/.test(e.hint ?? ""),
      );
    });
  }
});

describe("configured guests as targets", () => {
  test("a configured name resolves to that guest", () => {
    assert.equal(resolveTarget("db", CONFIG, opts()).hop.hostname, "db.example.com");
  });

  test("a name lower-cased by OpenSSH's %h still finds its guest", () => {
    assert.equal(resolveTarget("web1", CONFIG, opts()).name, "Web1");
  });

  test("guestNames lists the configured guests in file order", () => {
    assert.deepEqual(guestNames(CONFIG), ["Web1", "db"]);
  });

  test("--hypervisor replaces the default hypervisor of a guest that uses it, not a named one", () => {
    const o = opts({ hypervisorOverride: "root@hv9" });
    assert.equal(resolveTarget("Web1", CONFIG, o).hypervisor.hostname, "hv9");
    assert.equal(resolveTarget("db", CONFIG, o).hypervisor.hostname, "hv2.example.com");
  });
});

describe("the hypervisor of ad-hoc targets", () => {
  test("with no configuration and no --hypervisor it is local", () => {
    const g = resolveTarget("vsock/3", NONE, opts());
    assert.equal(g.hypervisor.local, true);
    assert.equal(g.hypervisor.hostname, undefined);
  });

  test("with a configuration it is [hypervisor], and the guest hop inherits its groups", () => {
    const g = resolveTarget("vsock/3", CONFIG, opts());
    assert.equal(g.hypervisor.name, "default");
    assert.equal(g.hypervisor.hostname, "hv1.example.com");
    assert.equal(g.hop.username, "ops");
    assert.equal(g.hop.verification.knownHostsFile, "/etc/kh");
    assert.equal(g.hop.auth.privateKeyFile, "/keys/hv");
    assert.equal(g.hop.connectTimeoutMs, 7000);
  });

  test("a [hypervisor] that only holds defaults needs --hypervisor", () => {
    const template = loadToml(`[hypervisor]\nknown_hosts_file = "/etc/kh"\nssh_use_agent = true\n`);
    assert.throws(() => resolveTarget("vsock/3", template, opts()), (e: unknown) => e instanceof UsageError && /--hypervisor/.test(e.hint ?? ""));
    const g = resolveTarget("vsock/3", template, opts({ hypervisorOverride: "hv5" }));
    assert.equal(g.hypervisor.hostname, "hv5");
    assert.equal(g.hypervisor.verification.knownHostsFile, "/etc/kh");
    assert.equal(g.hypervisor.auth.useAgent, true);
  });

  test("--hypervisor keeps the config's verification and authentication but not its connection attributes", () => {
    const g = resolveTarget("vsock/3", CONFIG, opts({ hypervisorOverride: "hv9.example.com" }));
    assert.equal(g.hypervisor.name, "cli");
    assert.deepEqual([g.hypervisor.hostname, g.hypervisor.port, g.hypervisor.username], ["hv9.example.com", 22, "root"]);
    assert.equal(g.hypervisor.verification.knownHostsFile, "/etc/kh");
    assert.equal(g.hypervisor.auth.privateKeyFile, "/keys/hv");
    assert.equal(g.hypervisor.connectTimeoutMs, 7000);
  });

  test("--hypervisor without configuration defaults to ~/.ssh/known_hosts, the agent and existing default keys", () => {
    const exists = (p: string) => p === "/home/u/.ssh/id_ecdsa" || p === "/home/u/.ssh/id_rsa";
    const g = resolveTarget("vsock/3", NONE, opts({ hypervisorOverride: "hv9", exists }));
    assert.equal(g.hypervisor.local, false);
    assert.equal(g.hypervisor.verification.knownHostsFile, "/home/u/.ssh/known_hosts");
    assert.equal(g.hypervisor.verification.origin, "default");
    assert.deepEqual(g.hypervisor.auth, {
      useAgent: true,
      agentSock: "/run/agent",
      privateKeyFile: "/home/u/.ssh/id_ecdsa",
      origin: "default",
    });
    assert.equal(g.hop.verification.knownHostsFile, "/home/u/.ssh/known_hosts");
  });

  test("without an agent the default authentication offers only a key file", () => {
    const g = resolveTarget("vsock/3", NONE, { env: {}, home: HOME, hypervisorOverride: "hv9", exists: () => true });
    assert.deepEqual([g.hypervisor.auth.useAgent, g.hypervisor.auth.privateKeyFile], [false, "/home/u/.ssh/id_ed25519"]);
  });

  test("qemu+ssh:// picks the libvirt URI for qemu/ targets and maps keyfile and knownhosts", () => {
    const g = resolveTarget(
      "qemu/web3",
      CONFIG,
      opts({ hypervisorOverride: "qemu+ssh://alice@hv7:2200/session?keyfile=~/.ssh/hv7&knownhosts=/etc/kh7" }),
    );
    assert.deepEqual(g.transport, { kind: "libvirt", domain: "web3", uri: "session", port: 22 });
    assert.deepEqual([g.hypervisor.hostname, g.hypervisor.port, g.hypervisor.username], ["hv7", 2200, "alice"]);
    assert.equal(g.hypervisor.auth.privateKeyFile, "/home/u/.ssh/hv7");
    assert.equal(g.hypervisor.verification.knownHostsFile, "/etc/kh7");
    assert.equal(g.hypervisor.verification.origin, "--hypervisor");
    assert.equal(resolveTarget("qemu:system/web3", CONFIG, opts({ hypervisorOverride: "qemu+ssh://hv7/session" })).transport.kind, "libvirt");
  });

  test("an explicit qemu:system/ beats the override's /session", () => {
    const g = resolveTarget("qemu:system/web3", NONE, opts({ hypervisorOverride: "qemu+ssh://hv7/session" }));
    assert.deepEqual(g.transport, { kind: "libvirt", domain: "web3", uri: "system", port: 22 });
  });
});

describe("--hypervisor forms", () => {
  const forms: Array<[string, unknown]> = [
    ["local", { local: true }],
    ["qemu:///system", { local: true, libvirtUri: "system" }],
    ["hv1", { local: false, hostname: "hv1" }],
    ["alice@hv1:2222", { local: false, hostname: "hv1", port: 2222, username: "alice" }],
    ["root@[2001:db8::1]:2222", { local: false, hostname: "2001:db8::1", port: 2222, username: "root" }],
    ["2001:db8::1", { local: false, hostname: "2001:db8::1" }],
    ["ssh://bob@hv2:2200", { local: false, hostname: "hv2", port: 2200, username: "bob" }],
    ["ssh://[::1]", { local: false, hostname: "::1" }],
    [
      "qemu+ssh://root@hv3:22/system?keyfile=/k&knownhosts=/kh",
      { local: false, hostname: "hv3", port: 22, username: "root", libvirtUri: "system", privateKeyFile: "/k", knownHostsFile: "/kh" },
    ],
  ];
  for (const [spec, parsed] of forms) {
    test(`parses ${spec}`, () => assert.deepEqual(parseHypervisorOverride(spec), parsed));
  }

  const bad: Array<[string, RegExp]> = [
    ["hv1:99999", /port 99999 is outside 1 … 65535/],
    ["@hv1", /empty user name/],
    ["qemu+tcp://hv1/system", /unsupported scheme "qemu\+tcp"/],
    ["qemu+ssh://hv1/system?no_verify=1", /host key is always verified/],
    ["qemu+ssh://hv1/system?socket=/x", /unsupported parameter "socket"/],
    ["qemu+ssh://hv1/other", /unknown libvirt path/],
    ["ssh://hv1/x", /no path/],
    ["qemu+ssh://hv1/\u001b[2J", /^bad --hypervisor "qemu\+ssh:\/\/hv1\/\\x1b\[2J": unknown libvirt path/],
  ];
  for (const [spec, message] of bad) {
    test(`refuses ${JSON.stringify(spec)}`, () => {
      assert.throws(() => parseHypervisorOverride(spec), (e: unknown) => e instanceof UsageError && message.test(e.message));
    });
  }

  test("the colon-free spellings qemu-system%DOMAIN and qemu-session%DOMAIN survive scp's host:path split", () => {
    // scp and rsync cut "host:path" at the first colon; the colon-free spelling has none before the path.
    for (const target of ["qemu-system%web3", "qemu-session%web3"]) {
      assert.equal(`root@${target}:/tmp`.split(":")[0], `root@${target}`);
      assert.equal(resolveTarget(target, NONE, opts()).transport.kind, "libvirt");
    }
  });

  const leaks: Array<[string, string[]]> = [
    ["ssh://alice:p@ssword@hv1", ["p@ssword", "@ssword"]],
    ["ssh://alice:pa/ss@hv1", ["pa/ss", "/ss@"]],
    ["qemu+ssh://root:se:cret@hv1/system", ["se:cret", "cret"]],
    ["qemu+tcp://root:hunter2@hv1", ["hunter2"]],
    ["ssh://alice:p@ss@hv1/x", ["p@ss"]],
  ];
  for (const [spec, secrets] of leaks) {
    test(`redacts everything between :// and the last @ of ${spec}`, () => {
      assert.throws(
        () => parseHypervisorOverride(spec),
        (e: unknown) => {
          assert.ok(e instanceof UsageError, `not a UsageError: ${e}`);
          const text = e.message + (e.hint ?? "");
          for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} in: ${text}`);
          assert.match(e.message, /:\/\/<redacted>@hv1/);
          return true;
        },
      );
    });
  }

  test("refuses a colon in a bare user name (a password) without echoing it", () => {
    for (const spec of ["alice:S3cret@hv1", "alice:S3cret@hv1:2222", "alice:S3c@ret@hv1"]) {
      assert.throws(
        () => parseHypervisorOverride(spec),
        (e: unknown) => e instanceof UsageError && e.exitCode === 2 && !/S3c/.test(e.message + (e.hint ?? "")) && /user name/.test(e.message),
        spec,
      );
    }
  });

  test("never echoes a password given in a URI", () => {
    assert.throws(
      () => parseHypervisorOverride("ssh://root:hunter2@hv1"),
      (e: unknown) => e instanceof UsageError && !/hunter2/.test(e.message + (e.hint ?? "")) && /passwords/.test(e.message),
    );
    assert.throws(
      () => parseHypervisorOverride("qemu+tcp://root:hunter2@hv1"),
      (e: unknown) => e instanceof UsageError && !/hunter2/.test(e.message),
    );
  });
});
