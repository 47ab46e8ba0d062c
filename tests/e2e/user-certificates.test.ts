// User certificates end to end: client keys in no authorized_keys, signed by the lab's user CA
// (sshd's TrustedUserCAKeys), log into the hypervisor and a forward-mode guest; refusals are exit 4.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { runCli } from "./_cli.ts";
import { guestBlock, hypervisorBlock, readLog, tunnelOutcome, writeConfig } from "./_fixtures.ts";

let lab: Lab;
let keysDir: string;
before(async () => {
  lab = await startLab({ guests: 2, certificates: true });
  keysDir = join(lab.dir, "user-cert-keys");
  mkdirSync(keysDir);
});
after(async () => {
  await lab?.stop();
});

const keygen = (...args: string[]) => execFileSync("ssh-keygen", ["-q", ...args], { stdio: ["ignore", "pipe", "pipe"] });

/**
 * A fresh client key (in no authorized_keys) and a certificate for it signed by `ca` (the lab's
 * user CA unless given); the certificate is written to `certPath` (default KEY-cert.pub).
 */
function certifiedKey(name: string, type: string, opts: { validity?: string; ca?: string; host?: boolean; certPath?: string } = {}): { key: string; cert: string } {
  const key = join(keysDir, name);
  keygen("-t", type, "-N", "", "-f", key);
  keygen("-s", opts.ca ?? lab.certificates!.userCa, "-I", `s2v-${name}`, ...(opts.host ? ["-h", "-n", "127.0.0.1"] : ["-n", "root"]), "-V", opts.validity ?? "-5m:+1h", `${key}.pub`);
  const cert = `${key}-cert.pub`;
  if (opts.certPath) {
    execFileSync("mv", [cert, opts.certPath]);
    return { key, cert: opts.certPath };
  }
  return { key, cert };
}

/** SHA-256 fingerprint of the key inside a certificate, as sshd logs it. */
function certKeyFingerprint(certFile: string): string {
  const out = execFileSync("ssh-keygen", ["-L", "-f", certFile], { encoding: "utf8" });
  return /Public key: \S+ (SHA256:\S+)/.exec(out)![1]!;
}

/** A config whose hypervisor logs in with `key` (and `certificate` when given); guest g1 in splice mode. */
function hypervisorConfig(name: string, key: string, certificate?: string): string {
  const extra: Record<string, string> = { ssh_private_key: JSON.stringify(key) };
  if (certificate) extra.ssh_certificate = JSON.stringify(certificate);
  return writeConfig(lab, name, hypervisorBlock(lab, extra) + guestBlock(lab, "g1", { ssh_private_key: "" }));
}

describe("the hypervisor accepts user certificates (TrustedUserCAKeys, key in no authorized_keys)", () => {
  test("an ed25519 certificate named by ssh_certificate opens a splice tunnel", async () => {
    const { key, cert } = certifiedKey("ed", "ed25519", { certPath: join(keysDir, "elsewhere-ed.cert") });
    const logStart = readLog(lab.hypervisor.sshdLog).length;
    const out = await tunnelOutcome(hypervisorConfig("uc-ed", key, cert));
    assert.ok(out.ready, out.stderr);
    const log = readLog(lab.hypervisor.sshdLog).slice(logStart);
    assert.match(log, /Accepted publickey for root .*ED25519-CERT .*ID s2v-ed /);
  });

  test("an ECDSA certificate beside its key (KEY-cert.pub) is used automatically", async () => {
    const { key } = certifiedKey("ecdsa", "ecdsa");
    const logStart = readLog(lab.hypervisor.sshdLog).length;
    const out = await tunnelOutcome(hypervisorConfig("uc-ecdsa", key));
    assert.ok(out.ready, out.stderr);
    assert.match(readLog(lab.hypervisor.sshdLog).slice(logStart), /Accepted publickey for root .*ECDSA-CERT .*ID s2v-ecdsa /);
  });

  test("an RSA certificate logs in as rsa-sha2-512/256-cert-v01, never SHA-1 ssh-rsa-cert-v01", async () => {
    const { key, cert } = certifiedKey("rsa", "rsa");
    const logStart = readLog(lab.hypervisor.sshdLog).length;
    const out = await tunnelOutcome(hypervisorConfig("uc-rsa", key, cert));
    assert.ok(out.ready, out.stderr);
    const log = readLog(lab.hypervisor.sshdLog).slice(logStart);
    const fp = certKeyFingerprint(cert);
    assert.match(log, /Accepted publickey for root .*RSA-CERT .*ID s2v-rsa /);
    const algorithms = [...log.matchAll(/pkalg (\S+) pkblob RSA-CERT (SHA256:\S+)/g)].filter((m) => m[2] === fp).map((m) => m[1]);
    assert.ok(algorithms.length > 0, `sshd logged no RSA certificate attempt (LogLevel DEBUG1?):\n${log}`);
    for (const a of algorithms) assert.match(a!, /^rsa-sha2-(512|256)-cert-v01@openssh\.com$/);
  });

  test("doctor passes hypervisor authentication with a certificate", async () => {
    const { key, cert } = certifiedKey("doctor", "ed25519");
    const r = await runCli(["doctor", "-c", hypervisorConfig("uc-doctor", key, cert), "g1", "--no-input", "--json"]);
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
    const auth = report.checks.find((c) => c.id === "hypervisor-auth");
    assert.ok(auth, r.stdout);
    assert.equal(auth.status, "pass", JSON.stringify(auth));
  });
});

describe("refused certificates", () => {
  test("an expired certificate fails with exit 4 and shows its validity", async () => {
    const { key, cert } = certifiedKey("expired", "ed25519", { validity: "20200101:20200102" });
    const r = await runCli(["tunnel", "-c", hypervisorConfig("uc-expired", key, cert), "g1"]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /user certificate .*expired-cert\.pub refused/);
    assert.match(r.stderr, /hint:.*key ID "s2v-expired".*principals root.*2020-01-0\d.*expired \(valid until/s);
  });

  test("a certificate from a CA the server does not trust fails with exit 4 naming the certificate", async () => {
    const { key, cert } = certifiedKey("other-ca", "ed25519", { ca: lab.certificates!.otherCa });
    const r = await runCli(["tunnel", "-c", hypervisorConfig("uc-other-ca", key, cert), "g1"]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /hint:.*key ID "s2v-other-ca".*TrustedUserCAKeys/s);
  });
});

test("a guest in forward mode is logged into with a certificate", async () => {
  const { key, cert } = certifiedKey("guest", "ed25519");
  const g2 = lab.guests[1]!;
  const logStart = readLog(g2.sshdLog).length;
  const config = writeConfig(
    lab,
    "uc-forward",
    hypervisorBlock(lab) + guestBlock(lab, "g2", { ssh_private_key: JSON.stringify(key), ssh_certificate: JSON.stringify(cert), mode: '"forward"' }),
  );
  const out = await tunnelOutcome(config, "g2");
  assert.ok(out.ready, out.stderr);
  assert.match(readLog(g2.sshdLog).slice(logStart), /Accepted publickey for root .*ED25519-CERT .*ID s2v-guest /);
});

describe("with ssh-agent", () => {
  let agent: ChildProcess;
  let sock: string;
  before(async () => {
    sock = join(lab.dir, "agent.sock");
    agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), "ssh-agent did not create its socket");
  });
  after(() => {
    agent?.kill();
  });
  const sshAdd = (key: string) => execFileSync("ssh-add", ["-q", key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: ["ignore", "pipe", "pipe"] });
  const agentConfig = (name: string, certificate?: string) =>
    writeConfig(
      lab,
      name,
      hypervisorBlock(lab, {
        ssh_private_key: "",
        ssh_use_agent: "true",
        ssh_agent_sock: JSON.stringify(sock),
        ...(certificate ? { ssh_certificate: JSON.stringify(certificate) } : {}),
      }) + guestBlock(lab, "g1", { ssh_private_key: "" }),
    );

  test("a plain key in the agent still logs in (the lab's authorized key; the agent holds nothing else yet)", async () => {
    sshAdd(lab.clientKey);
    const logStart = readLog(lab.hypervisor.sshdLog).length;
    const out = await tunnelOutcome(agentConfig("uc-agent-plain"));
    assert.ok(out.ready, out.stderr);
    assert.match(readLog(lab.hypervisor.sshdLog).slice(logStart), /Accepted publickey for root .* ED25519 SHA256:/);
    // The later tests need an agent whose keys are in no authorized_keys.
    execFileSync("ssh-add", ["-q", "-D"], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: ["ignore", "pipe", "pipe"] });
  });

  test("an RSA certificate the agent holds (ssh-add KEY with KEY-cert.pub) is offered, as rsa-sha2-512/256-cert-v01", async () => {
    const { key, cert } = certifiedKey("agent-rsa", "rsa");
    sshAdd(key);
    const logStart = readLog(lab.hypervisor.sshdLog).length;
    const out = await tunnelOutcome(agentConfig("uc-agent-rsa"));
    assert.ok(out.ready, out.stderr);
    const log = readLog(lab.hypervisor.sshdLog).slice(logStart);
    assert.match(log, /Accepted publickey for root .*RSA-CERT .*ID s2v-agent-rsa /);
    const fp = certKeyFingerprint(cert);
    const algorithms = [...log.matchAll(/pkalg (\S+) pkblob RSA-CERT (SHA256:\S+)/g)].filter((m) => m[2] === fp).map((m) => m[1]);
    assert.ok(algorithms.length > 0, log);
    for (const a of algorithms) assert.match(a!, /^rsa-sha2-(512|256)-cert-v01@openssh\.com$/);
  });

  test("ssh_certificate beside ssh_use_agent: a certificate file whose key only the agent holds", async () => {
    const { key, cert } = certifiedKey("agent-file", "ed25519", { certPath: join(keysDir, "agent-file.cert") });
    sshAdd(key);
    const logStart = readLog(lab.hypervisor.sshdLog).length;
    const out = await tunnelOutcome(agentConfig("uc-agent-file", cert));
    assert.ok(out.ready, out.stderr);
    assert.match(readLog(lab.hypervisor.sshdLog).slice(logStart), /Accepted publickey for root .*ED25519-CERT .*ID s2v-agent-file /);
  });
});

describe("config check", () => {
  test("refuses a host certificate used as ssh_certificate", async () => {
    const { key, cert } = certifiedKey("hostcert", "ed25519", { host: true, ca: lab.certificates!.hostCa });
    const r = await runCli(["config", "check", "-c", hypervisorConfig("uc-check-host", key, cert)]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /hypervisor\.ssh_certificate: certificate .*hostcert-cert\.pub: it is a host certificate, not a user certificate/);
  });

  test("refuses a certificate of another key", async () => {
    const mine = certifiedKey("mine", "ed25519");
    const theirs = certifiedKey("theirs", "ed25519");
    const r = await runCli(["config", "check", "-c", hypervisorConfig("uc-check-other", mine.key, theirs.cert)]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const theirFp = "SHA256:" + createHash("sha256").update(Buffer.from(readFileSync(`${theirs.key}.pub`, "utf8").split(" ")[1]!, "base64")).digest("base64").replace(/=+$/, "");
    assert.ok(r.stderr.includes(`it certifies key ${theirFp}`), r.stderr);
  });

  test("accepts a matching user certificate and warns when it has expired", async () => {
    const fine = certifiedKey("fine", "ed25519");
    const ok = await runCli(["config", "check", "-c", hypervisorConfig("uc-check-fine", fine.key, fine.cert)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stdout, /warning/);
    const old = certifiedKey("old", "ed25519", { validity: "20200101:20200102" });
    const warned = await runCli(["config", "check", "-c", hypervisorConfig("uc-check-old", old.key, old.cert)]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stdout, /warning: hypervisor\.ssh_certificate: .*expired \(valid until 2020-01-0\d/);
  });
});
