// `ssh2vsock ssh-config` output used as is by real OpenSSH (`ssh -F SNIPPET`): ad-hoc vsock and
// libvirt targets, and a configured guest whose key is checked under its hostname.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { cliCommand, runCli, runCommand } from "./_cli.ts";

let lab: Lab;
let snippetFile: string;
let snippet: string;
before(async () => {
  lab = await startLab({ guests: 2 });
  const r = await runCli(["-c", lab.configFile, "ssh-config"]);
  assert.equal(r.code, 0, r.stderr);
  snippet = r.stdout;
  snippetFile = join(lab.dir, "ssh-config.conf");
  // The user's part: where keys and known hosts live (a real ~/.ssh/config would say it).
  writeFileSync(snippetFile, `${snippet}\nHost *\n    IdentityFile ${lab.clientKey}\n    IdentitiesOnly yes\n    BatchMode yes\n    UserKnownHostsFile ${lab.knownHostsFile}\n    StrictHostKeyChecking yes\n`);
});
after(async () => {
  await lab?.stop();
});

const ssh = (host: string, alias?: string) =>
  runCommand("ssh", ["-F", snippetFile, ...(alias ? ["-o", `HostKeyAlias=${alias}`] : []), `root@${host}`, "ip netns identify"]);

describe("ssh-config", () => {
  test("routes every target form and the configured guests through this binary's proxy, with -c FILE", () => {
    const host = snippet.split("\n").find((l) => l.startsWith("Host vsock/"))!;
    for (const p of ["vsock/*", "vsock%*", "vsock-mux/*", "vsock-mux%*", "unix/*", "unix%*", "qemu/*", "qemu%*", "qemu:*/*", "qemu:*%*", "g1", "g2"]) {
      assert.ok(host.split(" ").includes(p), `${p} in: ${host}`);
    }
    const proxy = snippet.split("\n").find((l) => l.trim().startsWith("ProxyCommand "))!;
    assert.ok(proxy.includes(cliCommand().at(-1)!), proxy);
    assert.match(proxy, new RegExp(`-c ${lab.configFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} proxy %h$`));
    assert.match(snippet, /^\s+ProxyUseFdpass no$/m);
  });

  test("ssh -F SNIPPET root@qemu/g1 logs into the guest of that libvirt domain", async () => {
    const r = await ssh("qemu/g1", "g1.lab.test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[0]!.netns);
  });

  test("ssh -F SNIPPET root@vsock/4 logs into the guest with that CID", async () => {
    const r = await ssh(`vsock/${lab.guests[1]!.cid}`, "g2.lab.test");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), lab.guests[1]!.netns);
  });

  test("a configured guest name works and its key is checked under its hostname (HostKeyAlias)", async () => {
    assert.match(snippet, /^Host g2\n\s+HostKeyAlias g2\.lab\.test$/m);
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
