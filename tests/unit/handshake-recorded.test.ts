// The handshake inspector over real recorded handshakes (OpenSSH and dropbear, every kex and host
// key algorithm): trusted keys verify and pass every byte; untrusted ones never see the reply.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { HostKeyError, Ssh2vsockError } from "../../src/core/errors.ts";
import { HandshakeLab, KEY_KINDS, type KeyKind } from "./_handshake-lab.ts";
import { cross, HOST_KEY_ALGORITHMS, kindOf, recordedKexMethods, recordSet, type Recording } from "./_handshake-recorder.ts";
import { describe as show, knownHostsLine, policyFrom, replay, splitAt, trustStub } from "./_handshake-replay.ts";
import { bytesFrom, debugPayload, findReply, ignorePayload, packet } from "./_handshake-wire.ts";

const lab = new HandshakeLab();
after(() => lab.stop());
const KEX = await recordedKexMethods(lab);
const recordings = await recordSet(lab, {
  openssh: cross(KEX, HOST_KEY_ALGORITHMS),
  // dropbear 2022.83 offers no rsa-sha2-512 and no sntrup761.
  dropbearServer: cross(["curve25519-sha256", "ecdh-sha2-nistp384", "diffie-hellman-group14-sha256"], ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256"]),
  dbclient: true,
  sshRsa: true,
});
const sha2 = recordings.filter((r) => r.hostKeyAlgorithm !== "ssh-rsa");

const presented = (r: Recording) => r.serverKeys[kindOf(r.hostKeyAlgorithm)];
/** A kind other than the presented one, so that trust exists only for another algorithm. */
const otherKind = (k: KeyKind): KeyKind => (k === "ed25519" ? "ecdsa" : "ed25519");

/** A refusal must keep the packet carrying K_S, and everything after it, from the client. */
function assertReplyWithheld(r: Recording, toClient: Buffer) {
  const reply = findReply(r);
  const server = bytesFrom(r.chunks, "server");
  assert.ok(toClient.length <= reply.start, `${toClient.length} bytes reached the client, the reply starts at ${reply.start}`);
  assert.ok(server.subarray(0, toClient.length).equals(toClient), "what reached the client is not a prefix of what the server sent");
  assert.equal(toClient.indexOf(reply.ks), -1);
}

function assertRefused(o: ReturnType<typeof replay>["outcome"], code: string): Ssh2vsockError {
  assert.equal(o?.kind, "refused", show(o));
  const error = (o as { error: Ssh2vsockError }).error;
  assert.ok(error instanceof HostKeyError, show(o));
  assert.equal(error.exitCode, 3);
  assert.equal(error.code, code, show(o));
  return error;
}

test("the recordings cover every kex method and host key algorithm asked for", () => {
  const combos = new Set(recordings.filter((r) => r.client === "openssh" && r.server === "openssh").map((r) => `${r.kex} ${r.hostKeyAlgorithm}`));
  for (const kex of KEX) for (const hk of HOST_KEY_ALGORITHMS) assert.ok(combos.has(`${kex} ${hk}`), `${kex} ${hk} missing`);
  assert.ok(recordings.some((r) => r.client === "dropbear"));
  assert.ok(recordings.some((r) => r.server === "dropbear"));
});

for (const r of sha2) {
  describe(r.name, () => {
    test(`is verified when the server's key is trusted, as ${r.kex} with ${r.hostKeyAlgorithm}, passing every byte unchanged`, async () => {
      const key = presented(r);
      const result = replay(await policyFrom([knownHostsLine(key.line)]), r.chunks);
      assert.equal(result.outcome?.kind, "verified", show(result.outcome));
      assert.equal(result.decisions, 1);
      const o = result.outcome as Extract<typeof result.outcome, { kind: "verified" }>;
      assert.equal(o.kex, r.kex);
      assert.equal(o.algorithm, r.hostKeyAlgorithm);
      assert.ok(o.hostKey.blob.equals(key.key.blob));
      assert.ok(o.hostKey.blob.equals(findReply(r).ks));
      assert.equal(o.source, "guests.test.known_hosts:1");
      assert.match(o.serverIdent, r.server === "dropbear" ? /^SSH-2\.0-dropbear/ : /^SSH-2\.0-OpenSSH/);
      assert.match(o.clientIdent, r.client === "dropbear" ? /^SSH-2\.0-dropbear/ : /^SSH-2\.0-OpenSSH/);
      assert.ok(result.toServer.equals(bytesFrom(r.chunks, "client")), "client→server bytes differ");
      assert.ok(result.toClient.equals(bytesFrom(r.chunks, "server")), "server→client bytes differ");
    });

    test("is refused as changed when only another key of the same type is trusted", async () => {
      const kind = kindOf(r.hostKeyAlgorithm);
      const result = replay(await policyFrom([knownHostsLine(lab.otherKeys[kind].line)]), r.chunks);
      const error = assertRefused(result.outcome, "hostkey-changed") as HostKeyError;
      assert.ok(error.presented?.startsWith("SHA256:"));
      assertReplyWithheld(r, result.toClient);
    });

    test("is refused as revoked when the key is @revoked (and another of its type trusted)", async () => {
      const kind = kindOf(r.hostKeyAlgorithm);
      const trust = await policyFrom([knownHostsLine(lab.otherKeys[kind].line), `@revoked * ${presented(r).line}`]);
      const result = replay(trust, r.chunks);
      assertRefused(result.outcome, "hostkey-revoked");
      assertReplyWithheld(r, result.toClient);
    });

    test("is refused as unknown when the trust knows only keys of other types", async () => {
      const kind = kindOf(r.hostKeyAlgorithm);
      const policy = await policyFrom(KEY_KINDS.filter((k) => k !== kind).map((k) => knownHostsLine(r.serverKeys[k].line)));
      const result = replay(trustStub((k) => policy.verify(k)), r.chunks);
      assertRefused(result.outcome, "hostkey-unknown");
      assertReplyWithheld(r, result.toClient);
    });

    test("is refused as unknown when only another algorithm's key is trusted", async () => {
      const other = otherKind(kindOf(r.hostKeyAlgorithm));
      const result = replay(await policyFrom([knownHostsLine(r.serverKeys[other].line)]), r.chunks);
      const error = assertRefused(result.outcome, "hostkey-unknown");
      assert.match(error.message, /is not trusted: only other key types are known/);
      assertReplyWithheld(r, result.toClient);
    });
  });
}

test("a client offering only SHA-1 ssh-rsa is refused although the RSA key is trusted", async () => {
  const r = recordings.find((x) => x.hostKeyAlgorithm === "ssh-rsa");
  assert.ok(r, "no ssh-rsa recording");
  assert.equal(r.result.code, 0, "the recorded client did log in with ssh-rsa, so the server allowed it");
  const result = replay(await policyFrom([knownHostsLine(r.serverKeys.rsa.line)]), r.chunks);
  const error = assertRefused(result.outcome, "hostkey-algorithm");
  assert.match(error.message, /SHA-1 ssh-rsa/);
  assertReplyWithheld(r, result.toClient);
});

test("IGNORE and DEBUG messages from a real server before its reply pass through, and it still verifies", async () => {
  const r = recordings.find((x) => x.kex === "curve25519-sha256" && x.hostKeyAlgorithm === "ssh-ed25519" && x.server === "openssh")!;
  const start = findReply(r).start;
  const cut = splitAt(r.chunks, "server", start);
  // The chunk that now begins at the reply: count server bytes to find it.
  let seen = 0;
  const at = cut.findIndex((c) => (c.from === "server" ? (seen += c.data.length) - c.data.length === start : false));
  assert.ok(at > 0);
  const extra = [packet(ignorePayload("x".repeat(300))), Buffer.concat([packet(debugPayload("hello")), packet(ignorePayload(""))])];
  const chunks = [...cut.slice(0, at), ...extra.map((data) => ({ from: "server" as const, data })), ...cut.slice(at)];
  const result = replay(await policyFrom([knownHostsLine(presented(r).line)]), chunks);
  assert.equal(result.outcome?.kind, "verified", show(result.outcome));
  assert.ok(result.toClient.equals(bytesFrom(chunks, "server")));
  assert.ok(result.toServer.equals(bytesFrom(chunks, "client")));
});
