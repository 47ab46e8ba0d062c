// Proves the lab itself with OpenSSH as the oracle: the hypervisor's socat reaches each guest's
// namespace, failures look like real socat's, variants hold, and stop() leaves nothing behind.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { startLab, type Lab, type LabGuest } from "../lab/lab.ts";
import { alive, run, type RunResult } from "../lab/_system.ts";
import { labTrustOptions } from "./_fixtures.ts";

/** OpenSSH client options that make the lab's known_hosts the only source of trust. */
const sshBase = (lab: Lab): string[] => labTrustOptions(lab);

function hypervisorArgs(lab: Lab): string[] {
  return [...sshBase(lab), "-o", "BatchMode=yes", "-i", lab.clientKey, "-p", String(lab.hypervisor.port), "root@127.0.0.1"];
}

/** Runs `command` on the hypervisor with real ssh. */
function onHypervisor(lab: Lab, command: string): Promise<RunResult> {
  return run("ssh", [...hypervisorArgs(lab), command], { allowFailure: true, timeoutMs: 20_000 });
}

/** The ProxyCommand an OpenSSH user would write: the hypervisor's socat to the guest's CID. */
function proxyThrough(lab: Lab, guest: LabGuest): string {
  return `ssh ${hypervisorArgs(lab).join(" ")} socat - VSOCK-CONNECT:${guest.cid}:22`;
}

interface GuestLogin {
  user?: string;
  key?: string;
  /** Answered through SSH_ASKPASS (passphrase or password), never argv. */
  secret?: string;
  extra?: string[];
}

/** Logs into `guest` with real ssh through the hypervisor and runs `command`. */
function onGuest(lab: Lab, guest: LabGuest, login: GuestLogin, command: string): Promise<RunResult> {
  const args = [...sshBase(lab), "-o", `HostKeyAlias=${guest.name}.lab.test`, "-o", `ProxyCommand=${proxyThrough(lab, guest)}`];
  if (login.key) args.push("-i", login.key);
  else args.push("-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password");
  if (login.secret === undefined) args.push("-o", "BatchMode=yes");
  args.push(...(login.extra ?? []), `${login.user ?? "root"}@${guest.name}`, command);
  const env = { ...process.env };
  if (login.secret !== undefined) {
    const askpass = join(lab.dir, "test-askpass");
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' "$LAB_TEST_SECRET"\n`, { mode: 0o700 });
    Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", LAB_TEST_SECRET: login.secret });
  }
  return run("ssh", args, { allowFailure: true, env, timeoutMs: 20_000 });
}

function guest(lab: Lab, name: string): LabGuest {
  const g = lab.guests.find((x) => x.name === name);
  assert.ok(g, `no guest ${name}`);
  return g;
}

function pidFromFile(path: string): number {
  return Number(readFileSync(path, "utf8").trim());
}

const socatErrorLine = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d socat\[\d+\] E connect\(.*\): /m;

describe("the lab topology", () => {
  let lab: Lab;
  before(async () => {
    const t0 = Date.now();
    lab = await startLab({ guests: 4, guestVariants: { g2: "chacha-only", g3: "rsa-only", g4: "not-listening" } });
    // DESIGN target is < 3 s for two guests; four on a busy CI machine get some slack.
    assert.ok(Date.now() - t0 < 15_000, `lab start took ${Date.now() - t0} ms`);
  });
  after(async () => {
    await lab?.stop();
  });

  it("puts the socat wrapper first on PATH for hypervisor sessions", async () => {
    const r = await onHypervisor(lab, "command -v socat");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(lab.dir, "bin", "socat"));
  });

  it("relays VSOCK-CONNECT:3:22 to the first guest, which answers with its SSH banner", async () => {
    const r = await onHypervisor(lab, "socat - VSOCK-CONNECT:3:22 </dev/null");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SSH-2\.0-OpenSSH/);
    assert.match(readFileSync(guest(lab, "g1").sshdLog, "utf8"), /Connection from 127\.0\.0\.1 port \d+ on 127\.0\.0\.1 port 22/);
  });

  it("fails an unknown CID the way socat does: 'No such device' and exit 1", async () => {
    const r = await onHypervisor(lab, "socat - VSOCK-CONNECT:99:22 </dev/null");
    assert.equal(r.code, 1);
    assert.match(r.stderr, socatErrorLine);
    assert.match(r.stderr, /E connect\(5, AF=40 cid:99 port:22, 16\): No such device$/m);
    assert.equal(r.stdout, "");
  });

  it("reports 'Connection refused' for a CID whose namespace has nothing listening", async () => {
    const r = await onHypervisor(lab, `socat - VSOCK-CONNECT:${guest(lab, "g4").cid}:22 </dev/null`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, socatErrorLine);
    assert.match(r.stderr, /Connection refused/);
  });

  it("passes every other invocation, such as socat -V, to the real socat", async () => {
    const r = await onHypervisor(lab, "socat -V");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /socat version/);
    assert.match(r.stdout, /WITH_VSOCK 1/);
  });

  it("keeps each guest sshd in its own network namespace with only a loopback interface", async () => {
    const g1 = guest(lab, "g1");
    const pid = pidFromFile(join(lab.dir, "g1", "sshd.pid"));
    assert.notEqual(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync("/proc/self/ns/net"));
    const links = await run("ip", ["-n", g1.netns, "-o", "link"]);
    assert.deepEqual(
      links.stdout.trim().split("\n").map((l) => l.split(":")[1]!.trim()),
      ["lo"],
    );
    // From the host's namespace, 127.0.0.1:22 must not reach the guest (whatever else may be there).
    const before = readFileSync(g1.sshdLog, "utf8").split("Connection from").length;
    await new Promise<void>((resolve) => {
      const sock = connect(22, "127.0.0.1");
      sock.setTimeout(2000);
      sock.on("connect", () => setTimeout(() => (sock.destroy(), resolve()), 300));
      sock.on("error", () => resolve());
      sock.on("timeout", () => (sock.destroy(), resolve()));
    });
    assert.equal(readFileSync(g1.sshdLog, "utf8").split("Connection from").length, before);
  });

  it("serves full OpenSSH logins to a guest through the hypervisor's socat, with every lab credential", async () => {
    const g1 = guest(lab, "g1");
    const cases: Array<[string, GuestLogin, string]> = [
      ["plain key", { key: lab.clientKey }, "uid=0(root)"],
      ["PEM key", { key: lab.clientKeyPem }, "uid=0(root)"],
      ["encrypted key", { key: lab.clientKeyEncrypted, secret: lab.passphrase }, "uid=0(root)"],
      ["password", { user: lab.passwordUser, secret: lab.password }, `(${lab.passwordUser})`],
    ];
    for (const [label, login, expected] of cases) {
      const r = await onGuest(lab, g1, login, "id");
      assert.equal(r.code, 0, `${label}: ${r.stderr}`);
      assert.ok(r.stdout.includes(expected), `${label}: ${r.stdout}`);
    }
    const wrong = await onGuest(lab, g1, { user: lab.passwordUser, secret: "not-the-password" }, "id");
    assert.notEqual(wrong.code, 0);
  });

  it("keeps each lab's guest password out of the host's /etc/shadow", () => {
    // Each lab keeps its password inside its namespaces, so concurrent labs cannot collide.
    const shadow = readFileSync("/etc/shadow", "utf8").split("\n").find((l) => l.startsWith(`${lab.passwordUser}:`));
    assert.ok(shadow, "the host account exists");
    assert.ok(!shadow.split(":")[1]!.startsWith("$"), "the host account has no usable password");
  });

  it("offers only chacha20-poly1305 on the chacha-only guest", async () => {
    const g2 = guest(lab, "g2");
    const ok = await onGuest(lab, g2, { key: lab.clientKey }, "true");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(readFileSync(g2.sshdLog, "utf8"), /kex: client->server cipher: chacha20-poly1305@openssh\.com/);
    const aes = await onGuest(lab, g2, { key: lab.clientKey, extra: ["-o", "Ciphers=aes128-gcm@openssh.com,aes256-ctr"] }, "true");
    assert.notEqual(aes.code, 0);
    assert.match(aes.stderr, /no matching cipher/);
  });

  it("gives the rsa-only guest a single RSA host key, negotiated as rsa-sha2", async () => {
    const g3 = guest(lab, "g3");
    assert.deepEqual(Object.keys(g3.hostKeyPubFiles), ["rsa"]);
    const r = await onGuest(lab, g3, { key: lab.clientKey }, "true");
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(g3.sshdLog, "utf8"), /kex: host key algorithm: rsa-sha2-(256|512)/);
    const kh = readFileSync(lab.knownHostsFile, "utf8").split("\n").filter((l) => l.startsWith("g3.lab.test "));
    assert.deepEqual(kh.map((l) => l.split(" ")[1]), ["ssh-rsa"]);
  });

  it("lists the hypervisor as [127.0.0.1]:port and each listening guest by its bare name in known_hosts", () => {
    const hosts = readFileSync(lab.knownHostsFile, "utf8").trim().split("\n").map((l) => l.split(" ")[0]);
    assert.deepEqual([...new Set(hosts)], [`[127.0.0.1]:${lab.hypervisor.port}`, "g1.lab.test", "g2.lab.test", "g3.lab.test"]);
  });

  it("writes an ssh2vsock.toml with the hypervisor and one verified guest per CID", () => {
    const config = parseToml(readFileSync(lab.configFile, "utf8")) as any;
    assert.deepEqual({ ...config.hypervisor }, {
      hostname: "127.0.0.1",
      port: lab.hypervisor.port,
      username: "root",
      known_hosts_file: lab.knownHostsFile,
      ssh_private_key: lab.clientKey,
    });
    for (const g of lab.guests) {
      assert.deepEqual({ ...config.guests[g.name] }, {
        cid: g.cid,
        hostname: `${g.name}.lab.test`,
        port: 22,
        known_hosts_file: lab.knownHostsFile,
        ssh_private_key: lab.clientKey,
      });
    }
  });

  it("counts the connections the hypervisor accepts", async () => {
    const before = lab.hypervisorConnectionCount();
    assert.equal((await onHypervisor(lab, "true")).code, 0);
    assert.equal((await onHypervisor(lab, "true")).code, 0);
    assert.equal(lab.hypervisorConnectionCount(), before + 2);
  });

  it("restarts the hypervisor on the same port, dropping open connections", async () => {
    const oldPid = lab.hypervisor.pid;
    const session = spawn("ssh", [...hypervisorArgs(lab), "echo ready; exec sleep 60"], { stdio: ["ignore", "pipe", "pipe"] });
    const ended = new Promise<number | null>((resolve) => session.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      session.stdout.on("data", (d) => String(d).includes("ready") && resolve());
      session.on("exit", () => reject(new Error("ssh session ended before it was ready")));
    });
    const countBefore = lab.hypervisorConnectionCount();
    await lab.restartHypervisor();
    const code = await Promise.race([ended, new Promise((r) => setTimeout(() => r("still open"), 5000))]);
    assert.notEqual(code, "still open", "the open connection survived the restart");
    assert.notEqual(code, 0);
    assert.ok(!alive(oldPid));
    assert.notEqual(lab.hypervisor.pid, oldPid);
    const r = await onHypervisor(lab, "socat - VSOCK-CONNECT:3:22 </dev/null");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SSH-2\.0-/);
    assert.equal(lab.hypervisorConnectionCount(), countBefore + 1);
  });
});

describe("labs side by side", () => {
  it("runs two labs at once with separate names and passwords, and stop() leaves nothing behind", async () => {
    const labs = await Promise.all([startLab({ guests: 1 }), startLab({ guests: 1 })]);
    try {
      const [a, b] = labs as [Lab, Lab];
      assert.notEqual(a.dir, b.dir);
      assert.notEqual(a.guests[0]!.netns, b.guests[0]!.netns);
      assert.notEqual(a.password, b.password);
      assert.notEqual(a.hypervisor.port, b.hypervisor.port);
      for (const lab of labs) {
        const r = await onGuest(lab, lab.guests[0]!, { user: lab.passwordUser, secret: lab.password }, "id -un");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), lab.passwordUser);
      }
    } finally {
      const before = labs.map((lab) => ({
        lab,
        pids: [lab.hypervisor.pid, ...lab.guests.map((g) => pidFromFile(join(lab.dir, g.name, "sshd.pid")))],
      }));
      await Promise.all(labs.map((lab) => lab.stop()));
      const namespaces = (await run("ip", ["netns", "list"])).stdout;
      for (const { lab, pids } of before) {
        for (const pid of pids) assert.ok(!alive(pid), `sshd ${pid} still running`);
        for (const g of lab.guests) {
          assert.ok(!namespaces.includes(g.netns), `namespace ${g.netns} left behind`);
          assert.ok(!existsSync(join("/etc/netns", g.netns)), `/etc/netns/${g.netns} left behind`);
        }
        assert.ok(!existsSync(lab.dir), `${lab.dir} left behind`);
      }
    }
  });

  it("refuses, loudly, to start without root", async () => {
    const script = "import('./tests/lab/lab.ts').then((m) => m.startLab()).then(() => console.log('started'), (e) => { console.error(e.message); process.exit(3); })";
    const bun = join(process.cwd(), "node_modules", ".bin", "bun");
    const r = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", bun, "-e", script], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /needs root/);
  });
});
