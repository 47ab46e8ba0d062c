// `ssh2vsock ssh-config` output used as is by real OpenSSH: logins through the lab, and `ssh -G`
// proving its host key options win over systemd's vsock drop-in read after it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { cliCommand, runCli, runCommand } from "./_cli.ts";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// systemd >= 256's /etc/ssh/ssh_config.d/20-systemd-ssh-proxy.conf, the block that matches our forms.
const SYSTEMD_DROP_IN = `# Make sure unix/* and vsock/* can be used to connect to AF_UNIX and AF_VSOCK paths
Host unix/* unix%* vsock/* vsock%* vsock-mux/* vsock-mux%*
        ProxyCommand /usr/lib/systemd/systemd-ssh-proxy %h %p
        ProxyUseFdpass yes
        CheckHostIP no

        # Disable all kinds of host identity checks, since these addresses are generally ephemeral.
        StrictHostKeyChecking no
        UserKnownHostsFile /dev/null
`;

describe("ssh-config with the lab", () => {
  let lab: Lab;
  let snippetFile: string;
  let snippet: string;
  before(async () => {
    lab = await startLab({ guests: 2 });
    const r = await runCli(["-c", lab.configFile, "ssh-config"]);
    assert.equal(r.code, 0, r.stderr);
    snippet = r.stdout;
    snippetFile = join(lab.dir, "ssh-config.conf");
    // The user's part: which key to log in with (a real ~/.ssh/config would say it).
    writeFileSync(snippetFile, `${snippet}\nHost *\n    IdentityFile ${lab.clientKey}\n    IdentitiesOnly yes\n    BatchMode yes\n`);
  });
  after(async () => {
    await lab?.stop();
  });

  // Ad-hoc targets name the lab's known_hosts on the command line, which comes before any file;
  // configured guests find it through the snippet (their known_hosts_file).
  const ssh = (host: string, alias?: string) =>
    runCommand("ssh", [
      "-F", snippetFile,
      ...(alias ? ["-o", `HostKeyAlias=${alias}`, "-o", `UserKnownHostsFile=${lab.knownHostsFile}`] : []),
      `root@${host}`, "ip netns identify",
    ]);

  test("routes every target form and the configured guests through this binary's proxy %h %p, with -c FILE", () => {
    const host = snippet.split("\n").find((l) => l.startsWith("Host vsock/"))!;
    for (const p of ["vsock/*", "vsock%*", "vsock-mux/*", "vsock-mux%*", "unix/*", "unix%*", "qemu/*", "qemu%*", "qemu:*/*", "qemu:*%*", "g1", "g2"]) {
      assert.ok(host.split(" ").includes(p), `${p} in: ${host}`);
    }
    const proxy = snippet.split("\n").find((l) => l.trim().startsWith("ProxyCommand "))!;
    assert.ok(proxy.includes(cliCommand().at(-1)!), proxy);
    assert.match(proxy, new RegExp(`-c ${escape(lab.configFile)} proxy %h %p$`));
    assert.match(snippet, /^\s+ProxyUseFdpass no$/m);
    assert.match(snippet, /^# ssh2vsock verifies the guest's host key itself, and this ssh checks it again/m);
  });

  test("ssh -F SNIPPET root@qemu/g1 logs into the guest of that libvirt domain", async () => {
    const r = await ssh("qemu/g1", "g1.lab.test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[0]!.netns);
  });

  test("the colon-free spellings qemu-system%g1 and qemu-session%s-g2 log in, and scp copies through them", async () => {
    const sys = await ssh("qemu-system%g1", "g1.lab.test");
    assert.equal(sys.code, 0, sys.stderr);
    assert.equal(sys.stdout.trim(), lab.guests[0]!.netns);
    const ses = await ssh("qemu-session%s-g2", "g2.lab.test");
    assert.equal(ses.code, 0, ses.stderr);
    assert.equal(ses.stdout.trim(), lab.guests[1]!.netns);
    const file = join(lab.dir, "scp-colon-free.txt");
    writeFileSync(file, "through qemu-system%g1\n");
    const scp = await runCommand("scp", [
      "-F", snippetFile, "-o", "HostKeyAlias=g1.lab.test", "-o", `UserKnownHostsFile=${lab.knownHostsFile}`,
      file, `root@qemu-system%g1:${join(lab.dir, "scp-copied.txt")}`,
    ]);
    assert.equal(scp.code, 0, scp.stderr);
    // The lab's guests are network namespaces on this machine's file system: the copy is visible here.
    assert.equal(readFileSync(join(lab.dir, "scp-copied.txt"), "utf8"), "through qemu-system%g1\n");
  });

  test("ssh -F SNIPPET root@vsock/4 logs into the guest with that CID", async () => {
    const r = await ssh(`vsock/${lab.guests[1]!.cid}`, "g2.lab.test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[1]!.netns);
  });

  test("a configured guest name works, its key checked under its hostname in its known_hosts_file", async () => {
    assert.match(snippet, new RegExp(`^Host g2\\n\\s+HostKeyAlias g2\\.lab\\.test\\n(\\s+.*\\n)*?\\s+UserKnownHostsFile .* ${escape(lab.knownHostsFile)}$`, "m"));
    const r = await ssh("g2");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[1]!.netns);
  });

  test("unknown domain and domain without vsock fail with their own messages through ssh", async () => {
    const unknown = await ssh("qemu/nosuch", "g1.lab.test");
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no libvirt domain "nosuch"/);
    const novsock = await ssh(`qemu/${lab.libvirt.noVsock}`, "g1.lab.test");
    assert.notEqual(novsock.code, 0);
    assert.match(novsock.stderr, /has no vsock device/);
  });
});

describe("ssh-config before systemd's ssh_config drop-in (ssh -G)", () => {
  let dir: string;
  let configFile: string;
  let guestKnownHosts: string;
  let withSnippet: string;
  let dropInOnly: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "s2v-ssh-config-"));
    configFile = join(dir, "ssh2vsock.toml");
    guestKnownHosts = join(dir, "guests_known_hosts");
    writeFileSync(
      configFile,
      `[hypervisor]\nhostname = "hv1.example.com"\nknown_hosts_file = "${join(dir, "hv_known_hosts")}"\nssh_use_agent = true\n\n` +
        `[guests.web1]\ncid = 3\nhostname = "web1.example.com"\nknown_hosts_file = "${guestKnownHosts}"\n`,
    );
    const r = await runCli(["-c", configFile, "ssh-config"]);
    assert.equal(r.code, 0, r.stderr);
    const snippetFile = join(dir, "ssh2vsock.conf");
    writeFileSync(snippetFile, r.stdout);
    // As ~/.ssh/config puts it: our Include first, the distribution's drop-ins read after it.
    withSnippet = join(dir, "ssh_config");
    writeFileSync(withSnippet, `Include ${snippetFile}\n\n${SYSTEMD_DROP_IN}`);
    dropInOnly = join(dir, "ssh_config.drop-in-only");
    writeFileSync(dropInOnly, SYSTEMD_DROP_IN);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `ssh -G`'s resolved options, one value per lower-case keyword. */
  async function resolved(file: string, args: string[]): Promise<Map<string, string>> {
    const r = await runCommand("ssh", ["-G", "-F", file, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return new Map(r.stdout.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
  }

  // ssh -G prints ProxyCommand as written; %h and %p become the hostname and port it prints.
  const expanded = (o: Map<string, string>) => o.get("proxycommand")!.replaceAll("%h", o.get("hostname")!).replaceAll("%p", o.get("port")!);

  const cases: Array<{ behaviour: string; args: string[]; host: string; port: string }> = [
    { behaviour: "root@vsock/3", args: ["root@vsock/3"], host: "vsock/3", port: "22" },
    { behaviour: "-p 2222 root@vsock%3", args: ["-p", "2222", "root@vsock%3"], host: "vsock%3", port: "2222" },
    { behaviour: "root@unix/run/vm.sock", args: ["root@unix/run/vm.sock"], host: "unix/run/vm.sock", port: "22" },
    { behaviour: "the configured guest root@web1", args: ["root@web1"], host: "web1", port: "22" },
  ];
  for (const c of cases) {
    test(`${c.behaviour}: our host key checking, known_hosts and ProxyCommand win over the drop-in`, async () => {
      const o = await resolved(withSnippet, c.args);
      assert.equal(o.get("stricthostkeychecking"), "true");
      const files = o.get("userknownhostsfile")!;
      assert.doesNotMatch(files, /\/dev\/null/);
      assert.match(files, /\/\.ssh\/known_hosts \S*\/\.ssh\/known_hosts2/);
      assert.equal(o.get("proxyusefdpass"), "no");
      assert.equal(o.get("checkhostip"), "no");
      assert.doesNotMatch(o.get("proxycommand")!, /systemd-ssh-proxy/);
      assert.match(o.get("proxycommand")!, new RegExp(`^/\\S+ .*-c ${escape(configFile)} proxy %h %p$`));
      assert.ok(expanded(o).endsWith(` proxy ${c.host} ${c.port}`), expanded(o));
    });
  }

  test("the configured guest also checks its known_hosts_file under its hostname", async () => {
    const o = await resolved(withSnippet, ["root@web1"]);
    assert.equal(o.get("hostkeyalias"), "web1.example.com");
    assert.ok(o.get("userknownhostsfile")!.split(" ").includes(guestKnownHosts), o.get("userknownhostsfile")!);
  });

  test("without our snippet the drop-in alone turns host key checking off (what the snippet prevents)", async () => {
    const o = await resolved(dropInOnly, ["-p", "2222", "root@vsock%3"]);
    assert.equal(o.get("stricthostkeychecking"), "false");
    assert.equal(o.get("userknownhostsfile"), "/dev/null");
    assert.equal(o.get("proxyusefdpass"), "yes");
    assert.equal(o.get("proxycommand"), "/usr/lib/systemd/systemd-ssh-proxy %h %p");
  });
});

describe("ssh-config and the configuration file in use", () => {
  let dir: string;
  let home: string;
  const toml = (hostname: string) =>
    `[hypervisor]\nhostname = "hv1.example.com"\nknown_hosts_file = "/dev/null"\nssh_use_agent = true\n\n[guests.web1]\ncid = 3\nhostname = ${JSON.stringify(hostname)}\n`;
  // Nothing from the machine's own configuration: an empty home, no XDG dirs, no $SSH2VSOCK_CONFIG.
  const env = () => ({ HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_CONFIG_DIRS: join(home, "xdg"), SSH2VSOCK_CONFIG: "" });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "s2v-ssh-config-cwd-"));
    home = join(dir, "home");
    mkdirSync(home);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a ./ssh2vsock.toml in the working directory is neither read nor named (a cloned repository cannot pick the socat to run)", async () => {
    const repo = join(dir, "repo");
    mkdirSync(repo);
    writeFileSync(join(repo, "ssh2vsock.toml"), `[hypervisor]\nlocal = true\nsocat = "./evil.sh"\n\n[guests.evil]\ncid = 3\nssh_ignore_host_key = true\n`);
    const r = await runCli(["ssh-config"], { cwd: repo, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ssh2vsock\.toml|evil/);
    assert.match(r.stdout, /proxy %h %p$/m);
    assert.doesNotMatch(r.stdout, / -c /);
  });

  test("a config found through a relative $SSH2VSOCK_CONFIG is written as -c with its absolute path", async () => {
    const sub = join(dir, "sub");
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, "mine.toml"), toml("web1.example.com"));
    const r = await runCli(["ssh-config"], { cwd: dir, env: { ...env(), SSH2VSOCK_CONFIG: "sub/mine.toml" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(` -c ${escape(join(sub, "mine.toml"))} proxy %h %p$`, "m"));
  });

  test("the config in $XDG_CONFIG_HOME is pinned with -c too", async () => {
    mkdirSync(join(home, ".config", "ssh2vsock"), { recursive: true });
    const file = join(home, ".config", "ssh2vsock", "config.toml");
    writeFileSync(file, toml("web1.example.com"));
    try {
      const r = await runCli(["ssh-config"], { cwd: dir, env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(` -c ${escape(file)} proxy %h %p$`, "m"));
    } finally {
      rmSync(file);
    }
  });

  test("a guest hostname holding a newline and ProxyCommand is a config error, and no snippet is written", async () => {
    const file = join(dir, "inject.toml");
    writeFileSync(file, toml("web1\n    ProxyCommand sh -c 'touch /tmp/pwned'"));
    const r = await runCli(["-c", file, "ssh-config"], { env: env() });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /guests\.web1\.hostname: malformed hostname/);
  });

  test("a --hypervisor holding a password is refused and never written into the snippet", async () => {
    for (const spec of ["ssh://alice:S3cret@hv1", "alice:S3cret@hv1"]) {
      const r = await runCli(["--hypervisor", spec, "ssh-config"], { cwd: dir, env: env() });
      assert.equal(r.code, 2, `${spec}: ${r.stdout}`);
      assert.equal(r.stdout, "");
      assert.doesNotMatch(r.stderr, /S3cret/);
    }
  });

  test("routes the colon-free libvirt spellings qemu-system%DOMAIN and qemu-session%DOMAIN", async () => {
    const r = await runCli(["ssh-config"], { cwd: dir, env: env() });
    const host = r.stdout.split("\n").find((l) => l.startsWith("Host vsock/"))!;
    for (const p of ["qemu-system/*", "qemu-system%*", "qemu-session/*", "qemu-session%*"]) assert.ok(host.split(" ").includes(p), `${p} in ${host}`);
  });
});
