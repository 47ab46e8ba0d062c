// Proves the lab's extra guest variants with OpenSSH's client as the oracle: a guest refusing
// forwarding, guests served by tinysshd and dropbear, and the TCP service on each guest's loopback.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab, type LabGuest } from "../lab/lab.ts";
import { alive, run, type RunResult } from "../lab/_system.ts";
import { labTrustOptions } from "./_fixtures.ts";

/** OpenSSH options that make the lab's known_hosts the only trust and the plain client key the only identity. */
function sshBase(lab: Lab): string[] {
  // 30 s: CI machines run many labs at once.
  return [...labTrustOptions(lab, 30), "-o", "BatchMode=yes", "-i", lab.clientKey];
}

/** ssh args into `guest` through the hypervisor's socat, as a user would reach a VM over vsock. */
function guestArgs(lab: Lab, guest: LabGuest, extra: string[] = []): string[] {
  const hop = ["ssh", ...sshBase(lab), "-p", String(lab.hypervisor.port), "root@127.0.0.1", "socat", "-", `VSOCK-CONNECT:${guest.cid}:22`];
  return [
    ...sshBase(lab),
    "-o", `HostKeyAlias=${guest.name}.lab.test`,
    "-o", `ProxyCommand=${hop.join(" ")}`,
    ...extra,
    `${guest.loginUser}@${guest.name}`,
  ];
}

function onGuest(lab: Lab, guest: LabGuest, command: string, extra: string[] = []): Promise<RunResult> {
  return run("ssh", [...guestArgs(lab, guest, extra), command], { allowFailure: true, timeoutMs: 60_000 });
}

/** `ssh -W host:port` through `guest`: a direct-tcpip channel, fed `input`. */
function forwardThrough(lab: Lab, guest: LabGuest, target: string, input: string): Promise<RunResult> {
  return run("ssh", [...guestArgs(lab, guest, ["-W", target])], { allowFailure: true, input, timeoutMs: 60_000 });
}

/** The server software an OpenSSH client at -v saw in the guest's identification string. */
function remoteSoftware(r: RunResult): string {
  return /remote software version (\S+)/.exec(r.stderr)?.[1] ?? `(none in: ${r.stderr.slice(-500)})`;
}

/** The guest user's home as the guest's namespace sees it (its passwd overlay). */
function guestHome(lab: Lab, guest: LabGuest): string {
  const passwd = readFileSync(join("/etc/netns", guest.netns, "passwd"), "utf8");
  const entry = passwd.split("\n").find((l) => l.startsWith(`${lab.guestUser}:`));
  assert.ok(entry, `${lab.guestUser} missing from ${guest.name}'s passwd`);
  return entry.split(":")[5]!;
}

const knownHostsTypes = (lab: Lab, name: string) =>
  readFileSync(lab.knownHostsFile, "utf8").split("\n").filter((l) => l.startsWith(`${name}.lab.test `)).map((l) => l.split(" ")[1]);

describe("lab guest variants", () => {
  let lab: Lab;
  const g = (name: string): LabGuest => {
    const found = lab.guests.find((x) => x.name === name);
    assert.ok(found, `no guest ${name}`);
    return found;
  };

  before(async () => {
    lab = await startLab({ guests: 4, guestVariants: { g2: "no-forwarding", g3: "tinysshd", g4: "dropbear" } });
  });
  after(async () => {
    await lab?.stop();
  });

  test("runs OpenSSH for root on g1 and g2, tinysshd and dropbear for s2vguest on g3 and g4, the service on all", () => {
    assert.deepEqual(
      lab.guests.map((x) => [x.name, x.variant, x.server, x.loginUser, x.listening]),
      [
        ["g1", "default", "openssh", "root", true],
        ["g2", "no-forwarding", "openssh", "root", true],
        ["g3", "tinysshd", "tinysshd", lab.guestUser, true],
        ["g4", "dropbear", "dropbear", lab.guestUser, true],
      ],
    );
    assert.equal(lab.guestUser, "s2vguest");
    for (const x of lab.guests) assert.deepEqual(x.service, lab.guestService);
    assert.equal(lab.guestService.target, "127.0.0.1:8080");
  });

  test("the default guest logs root in with the lab's client key and runs echo hello", async () => {
    const r = await onGuest(lab, g("g1"), "echo hello; id -un");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello\nroot\n");
  });

  test("the default guest forwards to its own 127.0.0.1:8080 service, which greets and echoes", async () => {
    const r = await forwardThrough(lab, g("g1"), lab.guestService.target, "ping\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${lab.guestService.reply}ping\n`);
  });

  test("the no-forwarding guest logs in but refuses a direct-tcpip channel as administratively prohibited", async () => {
    const login = await onGuest(lab, g("g2"), "echo hello");
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "hello\n");
    for (const target of ["127.0.0.1:22", lab.guestService.target]) {
      const r = await forwardThrough(lab, g("g2"), target, "");
      assert.notEqual(r.code, 0, `forwarding to ${target} was allowed`);
      assert.match(r.stderr, /administratively prohibited/);
      assert.equal(r.stdout, "");
    }
    const config = readFileSync(join(lab.dir, "g2", "sshd_config"), "utf8");
    assert.match(config, /^AllowTcpForwarding no$/m);
    assert.match(config, /^DisableForwarding yes$/m); // OpenSSH >= 7.4 knows it
  });

  test("the tinysshd guest is served by tinysshd and logs the guest user in with the ed25519 client key", async () => {
    const r = await onGuest(lab, g("g3"), "echo hello; id -un; pwd", ["-v"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(remoteSoftware(r), /^tinyssh_/);
    const [hello, user, home] = r.stdout.trim().split("\n");
    assert.equal(hello, "hello");
    assert.equal(user, lab.guestUser);
    assert.match(home!, /^\/var\/lib\/ssh2vsock-lab\/lab-[a-z0-9]{4}\/s2vguest$/);
    assert.match(readFileSync(g("g3").sshdLog, "utf8"), /connection from 127\.0\.0\.1:\d+/);
  });

  test("the tinysshd guest has one ssh-ed25519 host key and speaks only chacha20-poly1305", async () => {
    assert.deepEqual(Object.keys(g("g3").hostKeyPubFiles), ["ed25519"]);
    assert.deepEqual(knownHostsTypes(lab, "g3"), ["ssh-ed25519"]);
    const aes = await onGuest(lab, g("g3"), "true", ["-o", "Ciphers=aes128-gcm@openssh.com,aes256-ctr"]);
    assert.notEqual(aes.code, 0);
    assert.match(aes.stderr, /no matching cipher/);
  });

  test("the dropbear guest is served by dropbear and logs the guest user in", async () => {
    const r = await onGuest(lab, g("g4"), "echo hello; id -un", ["-v"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(remoteSoftware(r), /^dropbear_/);
    assert.equal(r.stdout, `hello\n${lab.guestUser}\n`);
    assert.match(readFileSync(g("g4").sshdLog, "utf8"), /Pubkey auth succeeded for 's2vguest'/);
  });

  test("each of the dropbear guest's host keys verifies against known_hosts", async () => {
    assert.deepEqual(knownHostsTypes(lab, "g4"), ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"]);
    for (const alg of ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256"]) {
      const r = await onGuest(lab, g("g4"), "echo hello", ["-o", `HostKeyAlgorithms=${alg}`]);
      assert.equal(r.code, 0, `${alg}: ${r.stderr}`);
      assert.equal(r.stdout, "hello\n");
    }
  });

  test("the guest user's keys live in the lab's home, never in /root/.ssh", () => {
    const home = guestHome(lab, g("g3"));
    assert.match(home, /^\/var\/lib\/ssh2vsock-lab\/lab-[a-z0-9]{4}\/s2vguest$/);
    const clientPub = readFileSync(`${lab.clientKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    assert.ok(readFileSync(join(home, ".ssh", "authorized_keys"), "utf8").includes(clientPub));
    const rootKeys = "/root/.ssh/authorized_keys";
    assert.ok(!existsSync(rootKeys) || !readFileSync(rootKeys, "utf8").includes(clientPub), "the lab key is in /root/.ssh");
  });

  test("stop() ends every guest process, open sessions included, and removes namespaces and homes", async () => {
    const sessions = [g("g3"), g("g4")].map((x) => {
      const child = spawn("ssh", [...guestArgs(lab, x), "echo ready; exec sleep 60"], { stdio: ["ignore", "pipe", "pipe"] });
      const ended = new Promise<void>((resolve) => child.on("exit", () => resolve()));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d) => String(d).includes("ready") && resolve());
        child.on("exit", () => reject(new Error(`session on ${x.name} ended before it was ready`)));
      });
      return { ready, ended };
    });
    await Promise.all(sessions.map((s) => s.ready));
    const pids = new Map<string, number[]>();
    for (const x of lab.guests) {
      const listed = (await run("ip", ["netns", "pids", x.netns])).stdout.trim().split(/\s+/).filter(Boolean).map(Number);
      assert.ok(listed.length > 0, `nothing runs in ${x.name}'s namespace`);
      pids.set(x.name, listed);
    }
    const home = guestHome(lab, g("g3"));
    await lab.stop();
    await Promise.all(sessions.map((s) => s.ended));
    const namespaces = (await run("ip", ["netns", "list"])).stdout;
    for (const x of lab.guests) {
      for (const pid of pids.get(x.name)!) assert.ok(!alive(pid), `${x.name}: process ${pid} still running`);
      assert.ok(!namespaces.includes(x.netns), `namespace ${x.netns} left behind`);
      assert.ok(!existsSync(join("/etc/netns", x.netns)), `/etc/netns/${x.netns} left behind`);
    }
    assert.ok(!existsSync(join(home, "..")), `${join(home, "..")} left behind`);
    assert.ok(!existsSync(lab.dir), `${lab.dir} left behind`);
  });
});
