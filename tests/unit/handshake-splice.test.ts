// spliceInspected with real sockets: a real ssh client reaches a real sshd through an inspecting
// relay when the key is trusted, never sees the reply when it is not, and a silent guest times out.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createConnection, createServer, type Server as NetServer, type Socket } from "node:net";
import { createHandshakeInspector, type HandshakeTrust, type InspectorOutcome } from "../../src/core/handshake/inspector.ts";
import { endsOf, spliceInspected } from "../../src/core/handshake/splice.ts";
import { HostKeyError, RelayError, Ssh2vsockError } from "../../src/core/errors.ts";
import { HandshakeLab, tool } from "./_handshake-lab.ts";
import { recordingRelay, sshArgs } from "./_handshake-recorder.ts";
import { describe as show, HOSTNAME, knownHostsLine, LABEL, policyFrom } from "./_handshake-replay.ts";
import { bytesFrom, cleartextItems } from "./_handshake-wire.ts";

const lab = new HandshakeLab();
const servers: NetServer[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  await lab.stop();
});
const sshd = await lab.startSshd();

/** A relay on a free port that splices each connection to `upstream` through a fresh inspector. */
async function inspectingRelay(upstream: number, trust: HandshakeTrust, timeoutMs = 15_000) {
  const decided: Promise<InspectorOutcome>[] = [];
  const server = createServer((client) => {
    const guest = createConnection({ host: "127.0.0.1", port: upstream });
    sockets.push(client, guest);
    const inspector = createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME });
    decided.push(spliceInspected(endsOf(client), endsOf(guest), inspector, timeoutMs).decided);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, decided };
}

/** A TCP server that accepts and then says nothing (or hangs up at once). */
async function mute(hangUp: boolean): Promise<number> {
  const server = createServer((s) => {
    sockets.push(s);
    if (hangUp) s.destroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

const refusedWith = (o: InspectorOutcome | undefined): Ssh2vsockError => {
  assert.equal(o?.kind, "refused", show(o));
  return (o as { error: Ssh2vsockError }).error;
};
/** ssh got far enough to judge a host key: any of these means the reply reached it. */
const HOST_KEY_TALK = /Server host key|Permanently added|Host key verification failed|REMOTE HOST IDENTIFICATION|authenticity of host/;

test("with the guest's key trusted, a real ssh logs in through the splice and runs echo hello", async () => {
  const trust = await policyFrom([knownHostsLine(sshd.keys.ed25519.line)]);
  const relay = await inspectingRelay(sshd.port, trust);
  const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, { hostKeyAlgorithms: trust.algorithms.join(",") }, ["echo", "hello"]));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "hello\n");
  assert.equal(relay.decided.length, 1);
  const o = await relay.decided[0]!;
  assert.equal(o.kind, "verified", show(o));
  assert.equal((o as { algorithm: string }).algorithm, "ssh-ed25519");
});

test("with the guest's key untrusted, ssh fails with Connection closed, never sees the reply, and decided gives the refusal", async () => {
  const trust = await policyFrom([knownHostsLine(lab.otherKeys.ed25519.line)]);
  const relay = await inspectingRelay(sshd.port, trust);
  // A recorder between ssh and the splice shows exactly what reached the client.
  const recorder = await recordingRelay(relay.port);
  const result = await lab.run(tool("ssh"), sshArgs(lab, recorder.port, { hostKeyAlgorithms: trust.algorithms.join(",") }, ["echo", "hello"]));
  const chunks = await recorder.chunks;
  recorder.close();
  assert.equal(result.code, 255);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /Connection closed/);
  assert.doesNotMatch(result.stderr, HOST_KEY_TALK);
  const error = refusedWith(await relay.decided[0]);
  assert.ok(error instanceof HostKeyError && error.code === "hostkey-changed", show(await relay.decided[0]));
  const toClient = bytesFrom(chunks, "server");
  const types = cleartextItems(toClient).filter((i) => i.kind === "packet").map((i) => i.type);
  assert.deepEqual(types, [20], "only the server's KEXINIT may reach the client");
  assert.equal(toClient.indexOf(sshd.keys.ed25519.key.blob), -1);
});

test("a guest that accepts and never answers times out: decided gives a RelayError and ssh sees the connection close", async () => {
  const trust = await policyFrom([knownHostsLine(sshd.keys.ed25519.line)]);
  const relay = await inspectingRelay(await mute(false), trust, 800);
  const started = Date.now();
  const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, {}, ["true"]));
  const error = refusedWith(await relay.decided[0]);
  assert.ok(error instanceof RelayError && error.exitCode === 6);
  assert.match(error.message, /did not present its host key in time/);
  assert.ok(Date.now() - started >= 800, "decided before the timeout");
  assert.equal(result.code, 255);
  assert.match(result.stderr, /Connection closed/);
});

test("a guest that hangs up at once is a RelayError naming the early close", async () => {
  const trust = await policyFrom([knownHostsLine(sshd.keys.ed25519.line)]);
  const relay = await inspectingRelay(await mute(true), trust);
  const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, {}, ["true"]));
  const error = refusedWith(await relay.decided[0]);
  assert.ok(error instanceof RelayError);
  assert.match(error.message, /closed the connection before presenting its host key/);
  assert.equal(result.code, 255);
});
