// Host certificates through the handshake inspector, against a real sshd with HostCertificate:
// the inspector's own key probe and a real OpenSSH client through a splice, trusted only by a CA.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server as NetServer, type Socket } from "node:net";
import { join } from "node:path";
import { createHandshakeInspector, type HandshakeTrust, type InspectorOutcome } from "../../src/core/handshake/inspector.ts";
import { probeKeyWithInspector } from "../../src/core/handshake/key-probe.ts";
import { endsOf, spliceInspected } from "../../src/core/handshake/splice.ts";
import { HostKeyError, type Ssh2vsockError } from "../../src/core/errors.ts";
import { buildHostKeyPolicy, requirePlainHostKeys, type HostKeyPolicy } from "../../src/core/ssh/host-key-policy.ts";
import { HandshakeLab, tool, type KeyKind } from "./_handshake-lab.ts";
import { sshArgs } from "./_handshake-recorder.ts";
import { describe as show, HOSTNAME, LABEL } from "./_handshake-replay.ts";

const lab = new HandshakeLab();
const servers: NetServer[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  await lab.stop();
});

const keygen = (args: string[]) => execFileSync(tool("sshKeygen"), ["-q", ...args], { stdio: "pipe" });
const ca = join(lab.dir, "host_ca");
keygen(["-t", "ed25519", "-N", "", "-C", "host-ca", "-f", ca]);
const caLine = readFileSync(`${ca}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
const otherCa = join(lab.dir, "other_ca");
keygen(["-t", "ed25519", "-N", "", "-C", "other-ca", "-f", otherCa]);

/** Signs the lab's host key of `kind` into its -cert.pub, as a fleet's CA would. */
function signHostKey(kind: KeyKind, opts: { ca?: string; principals?: string; validity?: string; host?: boolean; id?: string } = {}): string {
  const pub = `${lab.hostKeys[kind].path}.pub`;
  keygen([
    "-s", opts.ca ?? ca,
    ...(opts.host === false ? [] : ["-h"]),
    "-I", opts.id ?? `${kind}-host`,
    "-n", opts.principals ?? HOSTNAME,
    "-V", opts.validity ?? "-1h:+1d",
    "-z", "42",
    pub,
  ]);
  return `${lab.hostKeys[kind].path}-cert.pub`;
}

for (const kind of ["ed25519", "ecdsa", "rsa"] as KeyKind[]) signHostKey(kind);
const sshd = await lab.startSshd((["ed25519", "ecdsa", "rsa"] as KeyKind[]).map((k) => `HostCertificate ${lab.hostKeys[k].path}-cert.pub`));

function policy(lines: string[], now?: Date, hostname = HOSTNAME): Promise<HostKeyPolicy> {
  return buildHostKeyPolicy(
    { knownHosts: lines, useSshfp: false, ignoreHostKey: false, origin: "guests.test" },
    hostname,
    22,
    LABEL,
    { readText: () => undefined, sshfp: async () => ({ fingerprints: [], warnings: [] }), ...(now ? { now: () => now } : {}) },
  );
}

const connect = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
    sockets.push(s);
  });

async function probe(trust: HandshakeTrust) {
  return probeKeyWithInspector(await connect(sshd.port), trust, { label: LABEL, hostname: HOSTNAME }, 15_000);
}

test("the key probe is shown a host certificate and trusts it through the @cert-authority line alone", async () => {
  const trust = await policy([`@cert-authority *.test ${caLine}`]);
  assert.deepEqual(trust.algorithms, [], "a CA alone gives ssh2 nothing to offer");
  const o = await probe(trust);
  assert.equal(o.algorithm, "ssh-ed25519-cert-v01@openssh.com");
  assert.match(o.source, /@cert-authority guests\.test\.known_hosts:1/);
  assert.match(o.certificate ?? "", /key ID "ed25519-host", serial 42, principals guest\.test/);
});

test("the key probe refuses a certificate whose principals do not name the guest, saying which", async () => {
  const trust = await policy([`@cert-authority * ${caLine}`], undefined, "other.test");
  const err = await probeKeyWithInspector(await connect(sshd.port), trust, { label: LABEL, hostname: "other.test" }, 15_000).then(
    (o) => assert.fail(`trusted: ${JSON.stringify(o)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HostKeyError, String(err));
  assert.equal(err.code, "certificate-refused");
  assert.match(err.message, /principals \(guest\.test\) do not name other\.test/);
});

test("a certificate checked at a time after its validity is refused as expired, with its validity in the message", async () => {
  const trust = await policy([`@cert-authority *.test ${caLine}`], new Date(Date.now() + 3 * 86400_000));
  const err = await probe(trust).then((o) => assert.fail(show(o as InspectorOutcome)), (e: unknown) => e);
  assert.ok(err instanceof HostKeyError && err.code === "certificate-refused", String(err));
  assert.match(err.message, /expired/);
  assert.match(err.message, /key ID "ed25519-host"/);
  assert.equal(err.exitCode, 3);
});

test("a @revoked CA line refuses its certificates even though a @cert-authority line trusts the CA", async () => {
  const trust = await policy([`@cert-authority *.test ${caLine}`, `@revoked * ${caLine}`]);
  const err = await probe(trust).then((o) => assert.fail(show(o as InspectorOutcome)), (e: unknown) => e);
  assert.ok(err instanceof HostKeyError, String(err));
  assert.match(err.message, /revoked/i);
});

test("a CA trusted for other hosts only gives no algorithm to offer and no trust", async () => {
  await assert.rejects(policy([`@cert-authority *.example.com ${caLine}`]), (e: unknown) => e instanceof HostKeyError && e.code === "no-trusted-key");
});

test("a hop that ssh2 opens itself is refused before connecting when only a CA trusts it, with a hint to add the plain key", async () => {
  const trust = await policy([`@cert-authority *.test ${caLine}`]);
  assert.throws(() => requirePlainHostKeys(trust, "hypervisor hv"), (e: unknown) =>
    e instanceof HostKeyError && e.code === "certificate-only" && /@cert-authority/.test(e.message) && /plain key/.test(e.hint ?? ""));
  const plain = await policy([`${HOSTNAME} ${lab.hostKeys.ed25519.line}`, `@cert-authority *.test ${caLine}`]);
  assert.doesNotThrow(() => requirePlainHostKeys(plain, "hypervisor hv"));
});

/** A relay that splices each connection to sshd through a fresh inspector. */
async function inspectingRelay(trust: HandshakeTrust) {
  const decided: Promise<InspectorOutcome>[] = [];
  const server = createServer((client) => {
    const guest = createConnection({ host: "127.0.0.1", port: sshd.port });
    sockets.push(client, guest);
    decided.push(spliceInspected(endsOf(client), endsOf(guest), createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME }), 15_000).decided);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, decided };
}

for (const algorithm of ["ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com"]) {
  test(`a real ssh that trusts the same CA logs in through the splice with ${algorithm}`, async () => {
    const trust = await policy([`@cert-authority *.test ${caLine}`]);
    const relay = await inspectingRelay(trust);
    const knownHosts = join(lab.dir, "client_known_hosts");
    writeFileSync(knownHosts, `@cert-authority *.test ${caLine}\n`);
    const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, {
      hostKeyAlgorithms: algorithm,
      extra: ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", `HostKeyAlias=${HOSTNAME}`],
    }, ["echo", "certified"]));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "certified\n");
    const o = await relay.decided[0]!;
    assert.equal(o.kind, "verified", show(o));
    assert.equal((o as { algorithm: string }).algorithm, algorithm);
  });
}

test("a certificate from a CA nobody trusts is refused through the splice before ssh sees the reply", async () => {
  const otherLine = readFileSync(`${otherCa}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  const trust = await policy([`@cert-authority *.test ${otherLine}`]);
  const relay = await inspectingRelay(trust);
  const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, { hostKeyAlgorithms: "ssh-ed25519-cert-v01@openssh.com" }, ["true"]));
  assert.equal(result.code, 255);
  const o = await relay.decided[0]!;
  assert.equal(o.kind, "refused", show(o));
  const err = (o as { error: Ssh2vsockError }).error;
  assert.equal(err.code, "certificate-refused");
  assert.match(err.message, /no @cert-authority line trusts/);
});

test("without any CA, a certificate whose key is plainly trusted is accepted as that key, as OpenSSH does", async () => {
  const trust = await policy([`${HOSTNAME} ${lab.hostKeys.ed25519.line}`]);
  const relay = await inspectingRelay(trust);
  const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, { hostKeyAlgorithms: "ssh-ed25519-cert-v01@openssh.com" }, ["true"]));
  assert.equal(result.code, 0, result.stderr);
  const o = await relay.decided[0]!;
  assert.equal(o.kind, "verified", show(o));
  assert.match((o as { source: string }).source, /guests\.test\.known_hosts:1/);
});
