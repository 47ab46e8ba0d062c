// Validation of ssh2vsock.toml: one case per rule of DESIGN.md "Validation errors", each
// asserting file, attribute path and rule text; all problems are reported at once.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/core/errors.ts";
import { FILE, loadToml, problemsOf as problemsOfToml } from "./_config-fixtures.ts";
import { formatProblem } from "../../src/core/config/validate.ts";

const AGENT = { SSH_AUTH_SOCK: "/run/agent.sock" };
const load = (toml: string) => loadToml(toml, AGENT);
const problemsOf = (toml: string) => problemsOfToml(toml, AGENT);

const HV = `
[hypervisor]
hostname = "hv1.example.com"
known_hosts_file = "~/.ssh/known_hosts"
ssh_use_agent = true
`;

const cases: Array<{ rule: string; toml: string; path: string; message: RegExp }> = [
  {
    rule: "unknown attribute, with a did-you-mean",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nuse_sshpf = true\n`,
    path: "guests.web1.use_sshpf",
    message: /^unknown attribute "use_sshpf" \(did you mean "use_sshfp"\?\)$/,
  },
  {
    rule: "unknown attribute in an inline hypervisor block",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nhypervisor = { hostnam = "hv9" }\n`,
    path: "guests.web1.hypervisor.hostnam",
    message: /unknown attribute "hostnam" \(did you mean "hostname"\?\)/,
  },
  {
    rule: "unknown top-level key",
    toml: `${HV}\n[guest.web1]\ncid = 3\n`,
    path: "guest",
    message: /unknown attribute "guest" \(did you mean "guests"\?\)/,
  },
  {
    rule: "a guest attribute in a hypervisor block",
    toml: `${HV}cid = 3\n`,
    path: "hypervisor.cid",
    message: /"cid" is a guest attribute, not valid in a hypervisor block/,
  },
  {
    rule: "wrong type",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nport = "22"\n`,
    path: "guests.web1.port",
    message: /^wrong type: expected an integer, found a string$/,
  },
  {
    rule: "wrong type in a list",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nknown_hosts = ["web1 ssh-ed25519 AAAA", 3]\n`,
    path: "guests.web1.known_hosts",
    message: /expected an array of strings, found an array/,
  },
  {
    rule: "more than one authentication mechanism in one block",
    toml: `[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\npassword = "pw"\nssh_use_agent = true\n`,
    path: "hypervisor",
    message: /^more than one authentication mechanism in one block \(password, ssh_use_agent\)/,
  },
  {
    rule: "no authentication for a forward guest",
    toml: `[hypervisor]\nhostname = "hv1"\nknown_hosts_file = "/kh"\nssh_private_key = "/k"\n\n[guests.web1]\ncid = 3\nhostname = "web1"\nmode = "forward"\nssh_use_agent = false\n`,
    path: "guests.web1",
    message: /^no authentication for the guest/,
  },
  {
    rule: "no verification for a hop",
    toml: `[hypervisor]\nhostname = "hv1"\nssh_use_agent = true\n`,
    path: "hypervisor",
    message: /^no host key verification for the hypervisor/,
  },
  {
    rule: "ssh_ignore_host_key beside another verification attribute",
    toml: `${HV}\n[guests.web1]\ncid = 3\nssh_ignore_host_key = true\nknown_hosts = ["web1 ssh-ed25519 AAAA"]\n`,
    path: "guests.web1.ssh_ignore_host_key",
    message: /^ssh_ignore_host_key beside known_hosts/,
  },
  {
    rule: "ssh_ignore_host_key on a hypervisor",
    toml: `${HV}ssh_ignore_host_key = true\n`,
    path: "hypervisor.ssh_ignore_host_key",
    message: /the hypervisor's host key can never be ignored/,
  },
  {
    rule: "use_sshfp without dns_resolver",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nuse_sshfp = true\n`,
    path: "guests.web1.use_sshfp",
    message: /^use_sshfp without dns_resolver/,
  },
  {
    rule: "use_sshfp with an IP address as hostname",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "192.0.2.7"\nuse_sshfp = true\ndns_resolver = "127.0.0.1:53"\n`,
    path: "guests.web1.use_sshfp",
    message: /^use_sshfp with an IP address as hostname \("192\.0\.2\.7"\)/,
  },
  {
    rule: "use_sshfp inherited by a guest whose hostname is an IP address",
    toml: `[hypervisor]\nhostname = "hv1.example.com"\nuse_sshfp = true\ndns_resolver = "[::1]:53"\nssh_use_agent = true\n\n[guests.web1]\ncid = 3\nhostname = "2001:db8::7"\n`,
    path: "guests.web1.hostname",
    message: /^use_sshfp with an IP address as hostname/,
  },
  {
    rule: "a guest without hostname",
    toml: `${HV}\n[guests.web1]\ncid = 3\n`,
    path: "guests.web1.hostname",
    message: /^missing: a guest needs hostname .* unless ssh_ignore_host_key = true$/,
  },
  {
    rule: "cid below 3",
    toml: `${HV}\n[guests.web1]\ncid = 2\nhostname = "web1"\n`,
    path: "guests.web1.cid",
    message: /^cid 2 is outside 3 … 4294967294$/,
  },
  {
    rule: "cid above 4294967294",
    toml: `${HV}\n[guests.web1]\ncid = 4294967295\nhostname = "web1"\n`,
    path: "guests.web1.cid",
    message: /^cid 4294967295 is outside 3 … 4294967294$/,
  },
  {
    rule: "cid not an integer",
    toml: `${HV}\n[guests.web1]\ncid = 3.5\nhostname = "web1"\n`,
    path: "guests.web1.cid",
    message: /^wrong type: expected an integer, found a float$/,
  },
  {
    rule: "port 0",
    toml: `${HV}port = 0\n`,
    path: "hypervisor.port",
    message: /^port 0 is outside 1 … 65535$/,
  },
  {
    rule: "port 65536",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nport = 65536\n`,
    path: "guests.web1.port",
    message: /^port 65536 is outside 1 … 65535$/,
  },
  {
    rule: "dns_resolver without a port",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nuse_sshfp = true\ndns_resolver = "127.0.0.1"\n`,
    path: "guests.web1.dns_resolver",
    message: /^malformed dns_resolver "127\.0\.0\.1": .*accepted: /,
  },
  {
    rule: "dns_resolver with a name instead of an address",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nuse_sshfp = true\ndns_resolver = "localhost:53"\n`,
    path: "guests.web1.dns_resolver",
    message: /^malformed dns_resolver "localhost:53"/,
  },
  {
    rule: "dns_resolver with an unbracketed IPv6 address",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nuse_sshfp = true\ndns_resolver = "::1:53"\n`,
    path: "guests.web1.dns_resolver",
    message: /^malformed dns_resolver "::1:53"/,
  },
  {
    rule: "a guest with no transport",
    toml: `${HV}\n[guests.web1]\nhostname = "web1"\n`,
    path: "guests.web1",
    message: /^no transport: set exactly one of cid, vsock_mux, unix_socket, domain$/,
  },
  {
    rule: "a guest with more than one transport",
    toml: `${HV}\n[guests.web1]\nhostname = "web1"\ncid = 3\nunix_socket = "/run/web1.sock"\n`,
    path: "guests.web1",
    message: /^more than one transport \(cid, unix_socket\)/,
  },
  {
    rule: "a named hypervisor that does not exist",
    toml: `${HV}\n[hypervisors.hv2]\nhostname = "hv2"\n\n[guests.web1]\ncid = 3\nhostname = "web1"\nhypervisor = "hv3"\n`,
    path: "guests.web1.hypervisor",
    message: /^no hypervisor named "hv3" \(did you mean "hv2"\?\): define \[hypervisors\.hv3\]$/,
  },
  {
    rule: "local = true beside connection attributes",
    toml: `[hypervisors.here]\nlocal = true\nhostname = "hv1"\nssh_use_agent = true\n`,
    path: "hypervisors.here.local",
    message: /^local = true beside hostname, ssh_use_agent: a local hypervisor has no SSH hop$/,
  },
  {
    rule: "a hypervisor without hostname",
    toml: `[hypervisors.hv2]\nknown_hosts_file = "/kh"\nssh_use_agent = true\n`,
    path: "hypervisors.hv2.hostname",
    message: /^missing: a hypervisor needs hostname unless local = true$/,
  },
  {
    rule: "a guest on a [hypervisor] that only holds defaults",
    toml: `[hypervisor]\nknown_hosts_file = "/kh"\nssh_use_agent = true\n\n[guests.web1]\ncid = 3\nhostname = "web1"\n`,
    path: "guests.web1.hypervisor",
    message: /^no hypervisor: \[hypervisor\] has no hostname/,
  },
  {
    rule: "a passphrase without its key",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nssh_private_key_passphrase = "s3cret"\n`,
    path: "guests.web1.ssh_private_key_passphrase",
    message: /^ssh_private_key_passphrase without ssh_private_key in the same block/,
  },
  {
    rule: "a malformed listen address",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\nlisten = "::1:2201"\n`,
    path: "guests.web1.listen",
    message: /^malformed listen "::1:2201": an IPv6 address must be written in brackets/,
  },
  {
    rule: "a guest table that is not a table",
    toml: `${HV}\n[guests]\nweb1 = "vsock/3"\n`,
    path: "guests.web1",
    message: /^wrong type: expected a table, found a string$/,
  },
  {
    rule: "a negative shutdown_timeout",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nshutdown_timeout = -1\n`,
    path: "guests.web1.shutdown_timeout",
    message: /shutdown_timeout must be 0 or more seconds/,
  },
  {
    rule: "a connect_timeout of zero",
    toml: `${HV.replace("[hypervisor]", "[hypervisor]\nconnect_timeout = 0")}`,
    path: "hypervisor.connect_timeout",
    message: /connect_timeout must be more than 0 seconds/,
  },
  {
    rule: "a guest name that a shell would expand (completion scripts offer guest names)",
    toml: `${HV}\n[guests.'$(id>/tmp/x)']\ncid = 3\nhostname = "web1.example.com"\n`,
    path: 'guests."$(id>/tmp/x)"',
    message: /^guest name "\$\(id>\/tmp\/x\)" may only contain letters, digits, "\.", "_" and "-"/,
  },
  {
    rule: "a guest name with a newline, shown escaped",
    toml: `${HV}\n[guests."web1\\nx"]\ncid = 3\nhostname = "web1.example.com"\n`,
    path: 'guests."web1\\nx"',
    message: /^guest name "web1\\nx" may only contain/,
  },
  {
    rule: "a guest name starting with a dash (it would read as an option)",
    toml: `${HV}\n[guests.-web1]\ncid = 3\nhostname = "web1.example.com"\n`,
    path: "guests.-web1",
    message: /may only contain .* not start with "-"/,
  },
  {
    rule: "a guest hostname holding a newline (ssh-config writes it as HostKeyAlias)",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1\\n  ProxyCommand sh -c id"\n`,
    path: "guests.web1.hostname",
    message: /^malformed hostname "web1\\n  ProxyCommand sh -c id": .*control character.*; expected a DNS name or an IP address$/,
  },
  {
    rule: "a guest hostname that is a known_hosts pattern",
    toml: `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1,*"\n`,
    path: "guests.web1.hostname",
    message: /^malformed hostname "web1,\*": .*pattern/,
  },
  {
    rule: "a hypervisor hostname with whitespace",
    toml: HV.replace('hostname = "hv1.example.com"', 'hostname = "hv1 -oProxyCommand=x"'),
    path: "hypervisor.hostname",
    message: /^malformed hostname .*whitespace/,
  },
  {
    rule: "a libvirt domain with shell quoting characters",
    toml: `${HV}\n[guests.web3]\ndomain = "x\\\\'; touch /tmp/p #"\nhostname = "web3.example.com"\n`,
    path: "guests.web3.domain",
    message: /^malformed domain .*: a libvirt domain is a name \(letters, digits, "\.", "_", "\+" and "-"\), a UUID or an ID$/,
  },
  {
    rule: "a socat command with a quote or backslash (sent through the hypervisor's shell)",
    toml: HV.replace("[hypervisor]", "[hypervisor]\nsocat = \"/opt/so'cat\""),
    path: "hypervisor.socat",
    message: /^socat cannot contain "'", "\\" or control characters/,
  },
];

describe("config validation rules", () => {
  for (const c of cases) {
    test(`reports ${c.rule} with file, path and rule`, () => {
      const problems = problemsOf(c.toml);
      const hit = problems.find((p) => p.path === c.path && c.message.test(p.message));
      assert.ok(hit, `no problem at ${c.path} matching ${c.message}; got:\n${problems.map(formatProblem).join("\n")}`);
      assert.equal(hit.file, FILE);
    });
  }
});

describe("config validation", () => {
  test("accepts the example of DESIGN.md", () => {
    const loaded = load(`
[hypervisor]
hostname = "hv1.example.com"
port = 22
username = "root"
known_hosts_file = "~/.ssh/known_hosts"
ssh_use_agent = true
socat = "socat"

[hypervisors.hv2]
hostname = "hv2.example.com"

[guests.web1]
cid = 3
hostname = "web1.example.com"
use_sshfp = true
dns_resolver = "127.0.0.1:53"
ssh_private_key = "~/.ssh/id_ed25519"
listen = "127.0.0.1:2201"
target = "127.0.0.1:22"
hypervisor = "hv2"
`);
    assert.deepEqual(loaded.guests.map((g) => g.name), ["web1"]);
  });

  test("accepts every dns_resolver form DESIGN.md lists", () => {
    for (const resolver of ["127.0.0.1:53", "[::1]:853", "[fe80::1%eth0]:53"]) {
      const problems = problemsOf(
        `${HV}\n[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nuse_sshfp = true\ndns_resolver = "${resolver}"\n`,
      );
      assert.deepEqual(problems, [], resolver);
    }
  });

  test("lets a guest whose host key is ignored go without hostname", () => {
    const loaded = load(`${HV}\n[guests.web1]\ncid = 3\nssh_ignore_host_key = true\n`);
    assert.equal(loaded.guests[0]!.hop.verification.ignoreHostKey, true);
    assert.equal(loaded.guests[0]!.hop.hostname, undefined);
  });

  test("reports all errors at once, not the first", () => {
    const toml = `
[hypervisor]
hostname = "hv1"
ssh_use_agent = true
prot = 22

[guests.web1]
cid = 1
hostname = "web1"
known_hosts = ["web1 ssh-ed25519 AAAA"]

[guests.db]
unix_socket = "/run/db.sock"
hostname = "db"
use_sshfp = true
`;
    let error: unknown;
    try {
      load(toml);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, "invalid configuration");
    assert.equal(error.exitCode, 2);
    const lines = error.problems.map(formatProblem);
    assert.deepEqual(lines.sort(), [
      `${FILE}: guests.db.use_sshfp: use_sshfp without dns_resolver: SSHFP needs a validating resolver (dns_resolver = "127.0.0.1:53")`,
      `${FILE}: guests.web1.cid: cid 1 is outside 3 … 4294967294`,
      `${FILE}: hypervisor.prot: unknown attribute "prot" (did you mean "port"?)`,
      `${FILE}: hypervisor: no host key verification for the hypervisor: set known_hosts, known_hosts_file or use_sshfp here or in [hypervisor]`,
    ].sort());
  });

  test("turns a TOML syntax error into a ConfigError with line and column", () => {
    let error: unknown;
    try {
      load(`[hypervisor]\nhostname = "hv1"\nport = = 22\n`);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 2);
    const [p] = error.problems;
    assert.equal(p!.file, FILE);
    assert.equal(p!.line, 3);
    assert.equal(p!.column, 8);
    assert.doesNotMatch(p!.message, /\n/);
    assert.match(formatProblem(p!), /^\/w\/ssh2vsock\.toml:3:8: /);
  });

  test("escapes control characters in attribute names and values it quotes", () => {
    const problems = problemsOf(`${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\n"x\\u001b[2J" = 1\nmode = "spl\\u001bice"\n`);
    const text = problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    assert.doesNotMatch(text, /\u001b/);
    assert.match(text, /unknown attribute "x\\x1b\[2J"/);
    assert.match(text, /unknown mode "spl\\x1bice"/);
  });

  test("never puts a password into a problem", () => {
    const problems = problemsOf(`${HV}\n[guests.web1]\ncid = 3\nhostname = "web1"\npassword = "hunter2"\nssh_use_agent = true\n`);
    assert.ok(problems.length > 0);
    for (const p of problems) assert.doesNotMatch(formatProblem(p), /hunter2/);
  });
});
