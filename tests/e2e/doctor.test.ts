// `ssh2vsock doctor` against the lab: a healthy guest passes, and each broken hop fails at the
// right check with its cause and hint while every later check is skipped; --json has the shape.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { freePort, run } from "../lab/_system.ts";
import { runCli, type CliResult } from "./_cli.ts";
import { fingerprintOf, guestBlock, hypervisorBlock, knownHostsFor, writeConfig, writeKnownHosts } from "./_fixtures.ts";

interface Check {
  id: string;
  title: string;
  status: "pass" | "warn" | "fail" | "skip";
  detail: string;
  hint?: string;
}
interface Report {
  target: string | null;
  checks: Check[];
  ok: boolean;
}

const ORDER = ["config", "guarantees", "hypervisor-tcp", "hypervisor-host-key", "hypervisor-auth", "socat", "vhost-vsock", "guest-banner", "guest-host-key", "guest-auth", "guest-forward"];

/** Validates the documented JSON shape strictly (no missing, extra or mistyped fields). */
function parseReport(r: CliResult): Report {
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc).sort(), ["checks", "ok", "target"]);
  assert.ok(doc.target === null || typeof doc.target === "string");
  assert.equal(typeof doc.ok, "boolean");
  assert.ok(Array.isArray(doc.checks));
  for (const c of doc.checks as Record<string, unknown>[]) {
    const keys = Object.keys(c).sort();
    assert.ok(["detail,id,status,title", "detail,hint,id,status,title"].includes(keys.join(",")), `keys of ${c.id}: ${keys}`);
    for (const k of keys) assert.equal(typeof c[k], "string", `${c.id}.${k}`);
    assert.ok(["pass", "warn", "fail", "skip"].includes(c.status as string), String(c.status));
  }
  const report = doc as unknown as Report;
  assert.equal(report.ok, !report.checks.some((c) => c.status === "fail"));
  assert.equal(r.code, report.ok ? 0 : 1, r.stderr);
  return report;
}

async function doctor(config: string, target: string): Promise<Report> {
  return parseReport(await runCli(["doctor", "-c", config, "--json", "--no-input", target]));
}

/** Asserts `id` failed and every later check was skipped because of it; returns the failed check. */
function failsAt(report: Report, id: string): Check {
  assert.deepEqual(report.checks.map((c) => c.id), ORDER);
  const at = ORDER.indexOf(id);
  const failed = report.checks[at]!;
  assert.equal(failed.status, "fail", JSON.stringify(failed));
  for (const c of report.checks.slice(0, at)) assert.ok(c.status === "pass" || c.status === "warn", `${c.id} before ${id}: ${c.status} ${c.detail}`);
  for (const c of report.checks.slice(at + 1)) {
    // Without socat the device is still checked; only the guest checks depend on socat.
    if (c.id === "vhost-vsock" && id === "socat") {
      assert.ok(c.status === "pass" || c.status === "warn", c.status);
      continue;
    }
    assert.equal(c.status, "skip", `${c.id} after ${id}`);
    assert.match(c.detail, new RegExp(`"${failed.title.replace(/[/.*+?^${}()|[\]\\]/g, "\\$&")}" failed`));
  }
  return failed;
}

let lab: Lab;
before(async () => {
  lab = await startLab({ guests: 3, guestVariants: { g2: "rsa-only", g3: "not-listening" } });
});
after(async () => {
  await lab?.stop();
});

/** A config with the lab's hypervisor and one guest, each with overridable lines. */
function config(name: string, guest: string, hv: Record<string, string> = {}, g: Record<string, string> = {}): string {
  return writeConfig(lab, name, hypervisorBlock(lab, hv) + "\n" + guestBlock(lab, guest, g));
}

describe("doctor", () => {
  test("a healthy guest passes every check (vhost-vsock may only warn) and exits 0", async () => {
    const r = await runCli(["doctor", "-c", lab.configFile, "--json", "g1"]);
    const report = parseReport(r);
    assert.equal(report.target, "g1");
    assert.deepEqual(report.checks.map((c) => c.id), ORDER);
    for (const c of report.checks) {
      if (c.id === "vhost-vsock") assert.ok(c.status === "pass" || c.status === "warn");
      else if (c.id === "guest-forward") assert.equal(c.status, "skip", `${c.id}: ${c.detail}`);
      else assert.equal(c.status, "pass", `${c.id}: ${c.detail}`);
    }
    assert.match(report.checks.find((c) => c.id === "config")!.detail, /splice mode$/);
    assert.match(report.checks.find((c) => c.id === "guest-forward")!.detail, /^splice mode: .*no forwarding needed/);
    const hk = report.checks.find((c) => c.id === "hypervisor-host-key")!;
    assert.match(hk.detail, /server offers .*ssh-ed25519.*; we accept .*ssh-ed25519/);
    assert.match(hk.detail, new RegExp(fingerprintOf(lab.hypervisor.hostKeyPubFiles.ed25519!).replace(/[+/]/g, "\\$&")));
    assert.match(report.checks.find((c) => c.id === "socat")!.detail, /socat version \d+\.\d+.*VSOCK supported/);
    assert.match(report.checks.find((c) => c.id === "guest-banner")!.detail, /^vsock CID 3 port 22 answered: SSH-2\.0-OpenSSH/);
    assert.equal(r.stderr, "");
  });

  test("a forward-mode guest: the forwarding check passes, naming the target and what answered", async () => {
    const cfg = writeConfig(lab, "doctor-forward", hypervisorBlock(lab) + guestBlock(lab, "g1", { mode: `"forward"` }));
    const report = parseReport(await runCli(["doctor", "-c", cfg, "--json", "g1"]));
    assert.match(report.checks.find((c) => c.id === "config")!.detail, /forward mode$/);
    const fwd = report.checks.find((c) => c.id === "guest-forward")!;
    assert.equal(fwd.status, "pass", fwd.detail);
    assert.match(fwd.detail, /127\.0\.0\.1:22 works; it answered: SSH-2\.0-/);
  });

  test("human output names every check with its status and ends with a summary", async () => {
    const r = await runCli(["doctor", "-c", lab.configFile, "g1"], { env: { NO_COLOR: "1" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✔ PASS configuration found and valid/);
    assert.match(r.stdout, /SKIP guest forwards to the tunnel target \(forward mode\)/);
    assert.match(r.stdout, /all checks passed/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour without a terminal");
  });

  test("hypervisor unreachable: a closed port fails the TCP check, the rest is skipped", async () => {
    const closed = await freePort();
    const report = await doctor(config("closed", "g1", { port: String(closed) }), "g1");
    const c = failsAt(report, "hypervisor-tcp");
    assert.match(c.detail, new RegExp(`127\\.0\\.0\\.1:${closed}: the connection was refused.*ECONNREFUSED`));
    assert.match(c.hint!, /hostname and port.*sshd is running/);
  });

  test("hypervisor key mismatch: presented and expected fingerprints and an attack warning", async () => {
    const other = lab.guests[0]!.hostKeyPubFiles.ed25519!;
    const kh = writeKnownHosts(lab, "mismatch", [knownHostsFor(`[127.0.0.1]:${lab.hypervisor.port}`, other)]);
    const report = await doctor(config("mismatch", "g1", { known_hosts_file: JSON.stringify(kh) }), "g1");
    const c = failsAt(report, "hypervisor-host-key");
    assert.match(c.detail, /CHANGED/);
    assert.ok(c.detail.includes(fingerprintOf(lab.hypervisor.hostKeyPubFiles.ed25519!)), "presented fingerprint");
    assert.ok(c.detail.includes(fingerprintOf(other)), "expected fingerprint");
    assert.match(c.detail, /man in the middle/);
  });

  test("no algorithm overlap: offered and accepted lists, and the known_hosts type that fixes it", async () => {
    // g2 has only an RSA host key; trust an ECDSA key for it.
    const kh = writeKnownHosts(lab, "ecdsa-only", [knownHostsFor("g2.lab.test", lab.hypervisor.hostKeyPubFiles.ecdsa!)]);
    const report = await doctor(config("overlap", "g2", {}, { known_hosts_file: JSON.stringify(kh) }), "g2");
    const c = failsAt(report, "guest-host-key");
    assert.match(c.detail, /no host key algorithm in common/);
    assert.match(c.detail, /server offers host key algorithms [^;]*rsa-sha2-512/);
    assert.match(c.detail, /trusted keys allow only ecdsa-sha2-nistp256/);
    assert.match(c.detail, /entry of type ssh-rsa .*would fix it/);
  });

  test("bad credentials: the hypervisor refuses an unauthorised key", async () => {
    const key = join(lab.dir, "stranger_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const report = await doctor(config("stranger", "g1", { ssh_private_key: JSON.stringify(key) }), "g1");
    const c = failsAt(report, "hypervisor-auth");
    assert.match(c.detail, /authentication failed/);
    assert.match(c.hint!, /username and the configured password, private key or agent/);
  });

  test("socat missing on the hypervisor fails the socat check and skips the guest checks", async () => {
    const report = await doctor(config("nosocat", "g1", { socat: `"/nonexistent/socat"` }), "g1");
    const c = failsAt(report, "socat");
    assert.match(c.detail, /socat not found: `\/nonexistent\/socat` on hypervisor/);
    assert.match(c.hint!, /install socat >= 1\.7\.4/);
  });

  test("unknown CID: no VM answers, with the hypervisor-side fix", async () => {
    const report = await doctor(config("nocid", "g1", {}, { cid: "77" }), "g1");
    const c = failsAt(report, "guest-banner");
    assert.match(c.detail, /no VM answers on that CID.*No such device/);
    assert.match(c.hint!, /vhost-vsock-pci,guest-cid=N/);
    assert.match(c.hint!, /<vsock>/);
  });

  test("guest with nothing listening: the guest-side fixes", async () => {
    const report = await doctor(lab.configFile, "g3");
    const c = failsAt(report, "guest-banner");
    assert.match(c.detail, /nothing is listening on that port in the guest.*Connection refused/);
    assert.match(c.hint!, /systemd >= 256 systemd-ssh-generator/);
    assert.match(c.hint!, /ListenStream=vsock::22/);
    assert.match(c.hint!, /socat VSOCK-LISTEN:22,reuseaddr,fork TCP:localhost:22/);
  });

  test("guest key unknown: without input it fails with the presented key and the keyscan hint, and writes nothing", async () => {
    const kh = join(lab.dir, "empty.known_hosts");
    writeFileSync(kh, "# nothing yet\n");
    const report = await doctor(config("unknown", "g1", {}, { known_hosts_file: JSON.stringify(kh) }), "g1");
    const c = failsAt(report, "guest-host-key");
    assert.match(c.detail, /host key for guest g1 \(ssh-ed25519 SHA256:\S+\) is not trusted/);
    assert.ok(c.detail.includes(fingerprintOf(lab.guests[0]!.hostKeyPubFiles.ed25519!)));
    assert.match(c.hint!, /ssh2vsock keyscan/);
    assert.equal(readFileSync(kh, "utf8"), "# nothing yet\n");
  });

  test("without a terminal it never prompts, even without --no-input", async () => {
    const kh = join(lab.dir, "empty2.known_hosts");
    writeFileSync(kh, "");
    const r = await runCli(["doctor", "-c", config("unknown2", "g1", {}, { known_hosts_file: JSON.stringify(kh) }), "g1"], { env: { NO_COLOR: "1" } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✖ FAIL guest host key/);
    assert.doesNotMatch(r.stdout, /Trust this key/);
    assert.match(r.stderr, /1 check failed \(guest-host-key\)/);
  });

  test("a hybrid vsock target whose guest is not listening fails the banner check with the refused CONNECT", async () => {
    const report = await doctor(lab.configFile, `vsock-mux${lab.sockets.mux.g3}`);
    const failed = failsAt(report, "guest-banner");
    assert.match(failed.detail, /refused CONNECT 22/);
    assert.match(failed.hint ?? "", /VSOCK-LISTEN:22/);
  });

  test("a Unix socket target reaches the guest's banner", async () => {
    const report = await doctor(lab.configFile, `unix${lab.sockets.ssh.g1}`);
    const banner = report.checks.find((c) => c.id === "guest-banner")!;
    assert.equal(banner.status, "pass", banner.detail);
    assert.match(banner.detail, /SSH-2\.0-/);
  });

  test("in local mode the hypervisor hop is skipped, socat is checked on this machine, and nothing crashes", async () => {
    const r = await runCli(["doctor", "--hypervisor", "local", "--json", "--no-input", `vsock/${lab.guests[0]!.cid}`], {
      env: { PATH: `${lab.binDir}:${process.env.PATH}`, HOME: lab.dir },
    });
    const report = parseReport(r);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    for (const id of ["hypervisor-tcp", "hypervisor-host-key", "hypervisor-auth"]) assert.equal(byId[id]!.status, "skip", id);
    assert.equal(byId.socat!.status, "pass", byId.socat!.detail);
    assert.match(byId.socat!.detail, /local host/);
    assert.equal(byId["guest-banner"]!.status, "pass", byId["guest-banner"]!.detail);
    assert.doesNotMatch(r.stderr, /Premature close|at emitError/);
  });
});
