// Inheritance of DESIGN.md "Configuration": per-attribute port/username/timing, whole
// verification and authentication groups from the most specific level, named and inline hypervisors.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, type GuestConfig, type LoadedConfig } from "../../src/core/config/index.ts";

const FILE = "/w/ssh2vsock.toml";

function load(toml: string, env: Record<string, string | undefined> = { SSH_AUTH_SOCK: "/run/agent.sock" }): LoadedConfig {
  return loadConfig({
    explicit: FILE,
    env,
    cwd: "/w",
    home: "/home/u",
    exists: (p) => p === FILE,
    readFile: () => toml,
  });
}

function guest(loaded: LoadedConfig, name: string): GuestConfig {
  const g = loaded.guests.find((x) => x.name === name);
  assert.ok(g, `no guest ${name}`);
  return g;
}

const HV = `
[hypervisor]
hostname = "hv1.example.com"
known_hosts_file = "~/.ssh/hv_known_hosts"
ssh_use_agent = true
`;

describe("per-attribute inheritance of port and username", () => {
  const toml = `
[hypervisor]
hostname = "hv1.example.com"
port = 2222
username = "admin"
known_hosts_file = "/kh"
ssh_use_agent = true

[hypervisors.hv2]
hostname = "hv2.example.com"
username = "ops"

[guests.a]            # inherits both from [hypervisor]
cid = 3
hostname = "a"

[guests.b]            # its own port, username from hv2
cid = 4
hostname = "b"
port = 22
hypervisor = "hv2"

[guests.c]            # port from hv2's fallback ([hypervisor]), own username
cid = 5
hostname = "c"
username = "alice"
hypervisor = "hv2"

[guests.d]            # inline block without port or username
cid = 6
hostname = "d"
hypervisor = { hostname = "hv3.example.com", port = 2200 }
`;
  const loaded = load(toml);
  const table: Array<[string, number, string, number, string]> = [
    // guest, guest port, guest user, hypervisor port, hypervisor user
    ["a", 2222, "admin", 2222, "admin"],
    ["b", 22, "ops", 2222, "ops"],
    ["c", 2222, "alice", 2222, "ops"],
    ["d", 2200, "admin", 2200, "admin"],
  ];
  for (const [name, port, user, hvPort, hvUser] of table) {
    test(`guest ${name} gets port ${port} and user ${user}; its hypervisor ${hvPort} and ${hvUser}`, () => {
      const g = guest(loaded, name);
      assert.equal(g.hop.port, port);
      assert.equal(g.hop.username, user);
      assert.equal(g.hypervisor.port, hvPort);
      assert.equal(g.hypervisor.username, hvUser);
    });
  }

  test("a guest's vsock port is its resolved port, inherited from the hypervisor", () => {
    assert.deepEqual(guest(loaded, "a").transport, { kind: "vsock", cid: 3, port: 2222 });
  });

  test("defaults are port 22 and user root", () => {
    const g = guest(load(`${HV}\n[guests.x]\ncid = 3\nhostname = "x"\n`), "x");
    assert.deepEqual([g.hop.port, g.hop.username, g.hypervisor.port, g.hypervisor.username], [22, "root", 22, "root"]);
  });
});

describe("named and inline hypervisor blocks", () => {
  const loaded = load(`${HV}
[hypervisors.hv2]
hostname = "hv2.example.com"
socat = "/opt/bin/socat"

[guests.named]
cid = 3
hostname = "named"
hypervisor = "hv2"

[guests.inline]
cid = 4
hostname = "inline"
[guests.inline.hypervisor]
hostname = "hv3.example.com"
known_hosts = ["hv3.example.com ssh-ed25519 AAAA"]

[guests.plain]
cid = 5
hostname = "plain"
`);

  test("a named block supplies connection attributes and falls back to [hypervisor] for the rest", () => {
    const hv = guest(loaded, "named").hypervisor;
    assert.equal(hv.name, "hv2");
    assert.equal(hv.hostname, "hv2.example.com");
    assert.equal(hv.socat, "/opt/bin/socat");
    assert.equal(hv.verification.knownHostsFile, "/home/u/.ssh/hv_known_hosts");
    assert.equal(hv.verification.origin, "hypervisor");
    assert.equal(hv.local, false);
  });

  test("an inline block is the guest's own hypervisor level", () => {
    const hv = guest(loaded, "inline").hypervisor;
    assert.equal(hv.name, "inline");
    assert.equal(hv.hostname, "hv3.example.com");
    assert.deepEqual(hv.verification.knownHosts, ["hv3.example.com ssh-ed25519 AAAA"]);
    assert.equal(hv.verification.knownHostsFile, undefined);
    assert.equal(hv.verification.origin, "guests.inline.hypervisor");
    assert.equal(hv.socat, "socat");
  });

  test("a guest without a hypervisor uses [hypervisor], named default", () => {
    const g = guest(loaded, "plain");
    assert.equal(g.hypervisor.name, "default");
    assert.equal(g.hypervisor.hostname, "hv1.example.com");
    assert.equal(loaded.defaultHypervisor?.hostname, "hv1.example.com");
  });

  test("a config without any hypervisor block makes its guests local", () => {
    const g = guest(load(`[guests.x]\ncid = 3\nhostname = "x"\nknown_hosts_file = "/kh"\nssh_use_agent = true\n`), "x");
    assert.equal(g.hypervisor.local, true);
    assert.equal(g.hypervisor.hostname, undefined);
  });
});

describe("the verification group comes whole from the most specific level", () => {
  test("a guest setting known_hosts ignores the hypervisor's known_hosts_file", () => {
    const g = guest(load(`${HV}\n[guests.x]\ncid = 3\nhostname = "x"\nknown_hosts = ["x ssh-ed25519 AAAA"]\n`), "x");
    assert.deepEqual(g.hop.verification, {
      knownHosts: ["x ssh-ed25519 AAAA"],
      knownHostsFile: undefined,
      useSshfp: false,
      dnsResolver: undefined,
      caFile: undefined,
      dnsTlsName: undefined,
      ignoreHostKey: false,
      origin: "guests.x",
    });
    assert.equal(g.hypervisor.verification.knownHostsFile, "/home/u/.ssh/hv_known_hosts");
  });

  test("a guest setting nothing of the group takes the hypervisor block's whole group", () => {
    const g = guest(
      load(`${HV}
[hypervisors.hv2]
hostname = "hv2.example.com"
use_sshfp = true
dns_resolver = "127.0.0.1:53"
ca_file = "$CERTS/ca.pem"
dns_tls_name = "resolver.example"

[guests.x]
cid = 3
hostname = "x.example.com"
hypervisor = "hv2"
`, { CERTS: "/etc/certs" }),
      "x",
    );
    assert.equal(g.hop.verification.origin, "hypervisors.hv2");
    assert.equal(g.hop.verification.useSshfp, true);
    assert.equal(g.hop.verification.caFile, "/etc/certs/ca.pem");
    assert.equal(g.hop.verification.dnsTlsName, "resolver.example");
    assert.equal(g.hop.verification.knownHostsFile, undefined, "the [hypervisor] file is not merged in");
  });

  test("within one level known_hosts, known_hosts_file and SSHFP add up", () => {
    const g = guest(
      load(`${HV}\n[guests.x]\ncid = 3\nhostname = "x.example.com"\nknown_hosts = ["x ssh-ed25519 AAAA"]\nknown_hosts_file = "/kh"\nuse_sshfp = true\ndns_resolver = "127.0.0.1:53"\n`),
      "x",
    );
    const v = g.hop.verification;
    assert.deepEqual([v.knownHosts.length, v.knownHostsFile, v.useSshfp, v.dnsResolver], [1, "/kh", true, "127.0.0.1:53"]);
  });
});

describe("the authentication group comes whole from the most specific level", () => {
  test("a guest's password replaces the hypervisor's agent", () => {
    const g = guest(load(`${HV}\n[guests.x]\ncid = 3\nhostname = "x"\npassword = "pw"\n`), "x");
    assert.equal(g.hop.auth.password, "pw");
    assert.equal(g.hop.auth.useAgent, false);
    assert.equal(g.hop.auth.origin, "guests.x");
    assert.equal(g.hypervisor.auth.useAgent, true);
  });

  test("a key travels with its passphrase; a passphrase never without its key", () => {
    const loaded = load(`
[hypervisor]
hostname = "hv1"
known_hosts_file = "/kh"
ssh_private_key = "~/.ssh/hv_key"
ssh_private_key_passphrase = "hv-secret"

[guests.x]
cid = 3
hostname = "x"
ssh_use_agent = true
`);
    const g = guest(loaded, "x");
    assert.deepEqual(g.hypervisor.auth, {
      useAgent: false,
      origin: "hypervisor",
      agentSock: "/run/agent.sock",
      privateKeyFile: "/home/u/.ssh/hv_key",
      passphrase: "hv-secret",
    });
    assert.equal(g.hop.auth.passphrase, undefined);
    assert.equal(g.hop.auth.privateKeyFile, undefined);
    assert.equal(g.hop.auth.useAgent, true);
  });

  test("ssh_agent_sock is inherited per attribute, then falls back to SSH_AUTH_SOCK", () => {
    const toml = `${HV}ssh_agent_sock = "$XDG_RUNTIME_DIR/agent"\n
[hypervisors.hv2]
hostname = "hv2"
ssh_agent_sock = "~/agent2"

[guests.a]
cid = 3
hostname = "a"
password = "pw"

[guests.b]
cid = 4
hostname = "b"
hypervisor = "hv2"
`;
    const loaded = load(toml, { XDG_RUNTIME_DIR: "/run/user/1000", SSH_AUTH_SOCK: "/tmp/ssh-x/agent.1" });
    assert.equal(guest(loaded, "a").hop.auth.agentSock, "/run/user/1000/agent");
    assert.equal(guest(loaded, "b").hop.auth.agentSock, "/home/u/agent2");
    const noSock = load(`${HV}\n[guests.a]\ncid = 3\nhostname = "a"\n`, { SSH_AUTH_SOCK: "/tmp/ssh-x/agent.1" });
    assert.equal(guest(noSock, "a").hop.auth.agentSock, "/tmp/ssh-x/agent.1");
  });
});

describe("timing, transports and tunnel ends", () => {
  test("timing is inherited per attribute with 15 s / 15 s / 3 defaults", () => {
    const loaded = load(`${HV}connect_timeout = 5\n\n[guests.x]\ncid = 3\nhostname = "x"\nkeepalive_interval = 0.5\n`);
    const g = guest(loaded, "x");
    assert.deepEqual([g.hop.connectTimeoutMs, g.hop.keepaliveIntervalMs, g.hop.keepaliveCountMax], [5000, 500, 3]);
    assert.deepEqual([g.hypervisor.connectTimeoutMs, g.hypervisor.keepaliveIntervalMs], [5000, 15000]);
  });

  test("each transport attribute becomes its transport; hypervisor-side paths are not expanded", () => {
    const loaded = load(`${HV}
[guests.m]
vsock_mux = "~/fc/v.sock"
hostname = "m"
port = 1024
[guests.u]
unix_socket = "/run/u.sock"
hostname = "u"
[guests.d]
domain = "web3"
hostname = "d"
`);
    assert.deepEqual(guest(loaded, "m").transport, { kind: "vsock-mux", path: "~/fc/v.sock", port: 1024 });
    assert.deepEqual(guest(loaded, "u").transport, { kind: "unix", path: "/run/u.sock" });
    assert.deepEqual(guest(loaded, "d").transport, { kind: "libvirt", domain: "web3", uri: "any", port: 22 });
  });

  test("listen and target default to 127.0.0.1:0 and 127.0.0.1:22 and accept [IPv6]:PORT", () => {
    const loaded = load(`${HV}\n[guests.a]\ncid = 3\nhostname = "a"\n[guests.b]\ncid = 4\nhostname = "b"\nlisten = "[::1]:2201"\ntarget = "localhost:2222"\n`);
    assert.deepEqual([guest(loaded, "a").listen, guest(loaded, "a").target], [
      { host: "127.0.0.1", port: 0 },
      { host: "127.0.0.1", port: 22 },
    ]);
    assert.deepEqual([guest(loaded, "b").listen, guest(loaded, "b").target], [
      { host: "::1", port: 2201 },
      { host: "localhost", port: 2222 },
    ]);
  });
});
