// The handshake inspector against crafted byte streams: what it refuses (unknown methods, guesses,
// oversized packets, garbage, disconnects) and what it must let through (IGNORE, DEBUG, banners).
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createHandshakeInspector } from "../../src/core/handshake/inspector.ts";
import { HostKeyError, RelayError, Ssh2vsockError } from "../../src/core/errors.ts";
import { describe as show, HOSTNAME, LABEL, policyFrom, replay } from "./_handshake-replay.ts";
import {
  bytesFrom, craftedHandshake, debugPayload, disconnectPayload, ignorePayload, kexinit, packet, replyPayload, str, u32, type Chunk,
} from "./_handshake-wire.ts";

/** A fresh Ed25519 public key blob (no ssh-keygen needed: the inspector never checks signatures). */
function ed25519Blob(): Buffer {
  const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
  return Buffer.concat([str("ssh-ed25519"), str(der.subarray(der.length - 32))]);
}
const KS = ed25519Blob();
const trust = await policyFrom([`${HOSTNAME} ssh-ed25519 ${KS.toString("base64")}`]);
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function refusal(r: ReturnType<typeof replay>, cls: typeof HostKeyError | typeof RelayError, code?: string): Ssh2vsockError {
  assert.equal(r.outcome?.kind, "refused", show(r.outcome));
  const error = (r.outcome as { error: Ssh2vsockError }).error;
  assert.ok(error instanceof cls, show(r.outcome));
  assert.equal(error.exitCode, cls === HostKeyError ? 3 : 6);
  if (code) assert.equal(error.code, code, show(r.outcome));
  return error;
}
/** The crafted reply (K_S) must never reach the client on a refusal. */
const withheld = (r: ReturnType<typeof replay>) => assert.equal(r.toClient.indexOf(KS), -1, "K_S reached the client");
const server = (data: Buffer | string): Chunk => ({ from: "server", data: Buffer.from(data) });
const client = (data: Buffer | string): Chunk => ({ from: "client", data: Buffer.from(data) });

test("a crafted handshake with a trusted key verifies and forwards every byte", () => {
  const chunks = craftedHandshake({ ks: KS });
  const r = replay(trust, chunks);
  assert.equal(r.outcome?.kind, "verified", show(r.outcome));
  assert.ok(r.toClient.equals(bytesFrom(chunks, "server")));
  assert.ok(r.toServer.equals(bytesFrom(chunks, "client")));
});

test("an unknown key exchange method is refused with a HostKeyError whose hint mentions mode = \"forward\"", () => {
  const r = replay(trust, craftedHandshake({ ks: KS, kex: "frobnicate-sha256@example.com" }));
  const error = refusal(r, HostKeyError);
  assert.match(error.message, /frobnicate-sha256@example\.com/);
  assert.match(error.hint ?? "", /mode = "forward"/);
  withheld(r);
});

test("a DISCONNECT from the server before the reply is refused, its text shown with control characters escaped", () => {
  const text = "go away \x1b[31mRED\x1b[0m\x07\r\n\u009b2J\x00end";
  const chunks = craftedHandshake({ ks: KS, beforeReply: [packet(disconnectPayload(2, text))] });
  const r = replay(trust, chunks);
  const error = refusal(r, RelayError, "relay");
  assert.ok(!CONTROL.test(error.message), `raw control character in: ${JSON.stringify(error.message)}`);
  assert.match(error.message, /go away \\x1b\[31mRED\\x1b\[0m\\x07\\x0d\\x0a\\x9b2J\\x00end/);
  assert.match(error.message, /code 2/);
  withheld(r);
});

test("IGNORE, DEBUG and UNIMPLEMENTED messages before the reply are passed through and the handshake still verifies", () => {
  const unimplemented = packet(Buffer.concat([Buffer.from([3]), u32(7)]));
  const chunks = craftedHandshake({ ks: KS, beforeReply: [packet(ignorePayload("pad".repeat(100))), packet(debugPayload("\x1b[2J hi")), unimplemented] });
  // Also an IGNORE straight after the server's identification, before its KEXINIT.
  chunks.splice(1, 0, server(packet(ignorePayload(""))));
  const r = replay(trust, chunks);
  assert.equal(r.outcome?.kind, "verified", show(r.outcome));
  assert.ok(r.toClient.equals(bytesFrom(chunks, "server")));
});

test("lines a server sends before its identification pass through (RFC 4253 §4.2)", () => {
  const chunks = [server("Welcome to the guest\r\nplease behave\n"), ...craftedHandshake({ ks: KS })];
  const r = replay(trust, chunks);
  assert.equal(r.outcome?.kind, "verified", show(r.outcome));
  assert.ok(r.toClient.equals(bytesFrom(chunks, "server")));
});

test("a server KEXINIT with first_kex_packet_follows = true is refused", () => {
  const r = replay(trust, craftedHandshake({ ks: KS, serverFollows: true }));
  const error = refusal(r, HostKeyError, "kex-unverifiable");
  assert.match(error.message, /first_kex_packet_follows/);
  withheld(r);
});

test("a group exchange verifies on message 33, not on the group (31) that comes first", () => {
  // A group message whose first field looks like K_S of an untrusted key must not be taken as the reply.
  const group = packet(Buffer.concat([Buffer.from([31]), str(ed25519Blob()), str(Buffer.from([2]))]));
  const chunks = craftedHandshake({ ks: KS, kex: "diffie-hellman-group-exchange-sha256", beforeReply: [group], replyType: 33 });
  const r = replay(trust, chunks);
  assert.equal(r.outcome?.kind, "verified", show(r.outcome));
  assert.equal((r.outcome as { kex: string }).kex, "diffie-hellman-group-exchange-sha256");
});

test("a reply whose K_S is no SSH public key is refused", () => {
  const r = replay(trust, craftedHandshake({ ks: Buffer.from([0, 0, 0, 99, 1, 2]) }));
  refusal(r, HostKeyError);
});

test("a reply presenting a key of another type than the negotiated algorithm is refused", () => {
  const r = replay(trust, craftedHandshake({ ks: KS, hostKey: "ecdsa-sha2-nistp256" }));
  refusal(r, HostKeyError, "hostkey-algorithm");
  withheld(r);
});

test("a server message that is not part of the negotiated method is refused before the reply", () => {
  const r = replay(trust, craftedHandshake({ ks: KS, beforeReply: [packet(Buffer.from([50, 0, 0, 0, 0]))] }));
  refusal(r, RelayError, "relay");
  withheld(r);
});

test("a second server KEXINIT before the reply is refused", () => {
  const r = replay(trust, craftedHandshake({ ks: KS, beforeReply: [packet(kexinit(["curve25519-sha256"], ["ssh-ed25519"]))] }));
  refusal(r, RelayError);
  withheld(r);
});

test("no key exchange method in common is a RelayError; no host key algorithm in common a HostKeyError", () => {
  const chunks = craftedHandshake({ ks: KS });
  const noKex = chunks.map((c, i) => (i === 3 ? client(packet(kexinit(["ecdh-sha2-nistp521"], ["ssh-ed25519"]))) : c));
  refusal(replay(trust, noKex), RelayError);
  const noHostKey = chunks.map((c, i) => (i === 3 ? client(packet(kexinit(["curve25519-sha256"], ["ssh-dss"]))) : c));
  refusal(replay(trust, noHostKey), HostKeyError, "hostkey-algorithm");
});

test("dropbear's kexguess2 pseudo-method is never taken for the key exchange method", () => {
  const chunks = craftedHandshake({ ks: KS });
  const withGuess = (i: number, kex: string[]): Chunk => ({ from: chunks[i]!.from, data: packet(kexinit(kex, ["ssh-ed25519"])) });
  // Both list it after the real methods, as dropbear does: the real common method wins.
  const ok = chunks.map((c, i) => (i === 2 ? withGuess(2, ["curve25519-sha256", "kexguess2@matt.ucc.asn.au"]) : i === 3 ? withGuess(3, ["curve25519-sha256", "kexguess2@matt.ucc.asn.au"]) : c));
  assert.equal(replay(trust, ok).outcome?.kind, "verified");
  // Only the pseudo-method in common: no common method (exit 6), not an uninspectable one (exit 3).
  const none = chunks.map((c, i) => (i === 2 ? withGuess(2, ["curve25519-sha256", "kexguess2@matt.ucc.asn.au"]) : i === 3 ? withGuess(3, ["ecdh-sha2-nistp521", "kexguess2@matt.ucc.asn.au"]) : c));
  const error = refusal(replay(trust, none), RelayError);
  assert.match(error.message, /no key exchange method in common/);
});

test("a packet longer than 35000 bytes is refused as soon as its length is read, without buffering it", () => {
  const chunks = craftedHandshake({ ks: KS }).slice(0, 5);
  const header = Buffer.concat([u32(100_000), Buffer.from([4, 2])]);
  chunks.push(server(header), ...Array.from({ length: 100 }, () => server(Buffer.alloc(1000, 0x41))));
  let largest = 0;
  const r = replay(trust, chunks, { onStep: (b) => (largest = Math.max(largest, b)) });
  const error = refusal(r, RelayError);
  assert.match(error.message, /exceeds the 35000-byte limit/);
  assert.ok(largest <= 16, `buffered ${largest} bytes`);
});

test("a packet of exactly 35000 bytes is read (buffered no more than it), one byte more is refused", () => {
  const big = (total: number) => {
    const payload = Buffer.concat([Buffer.from([2]), str(Buffer.alloc(total - 4 - 1 - 4 - 5, 0x61))]);
    return Buffer.concat([u32(total - 4), Buffer.from([4]), payload, Buffer.alloc(4)]);
  };
  const feed = (pkt: Buffer) => {
    const chunks = craftedHandshake({ ks: KS });
    const pieces = Array.from({ length: Math.ceil(pkt.length / 1000) }, (_, i) => server(pkt.subarray(i * 1000, (i + 1) * 1000)));
    chunks.splice(2, 0, ...pieces);
    let largest = 0;
    const r = replay(trust, chunks, { onStep: (b) => (largest = Math.max(largest, b)) });
    return { r, largest };
  };
  const ok = feed(big(35_000));
  assert.equal(ok.r.outcome?.kind, "verified", show(ok.r.outcome));
  assert.ok(ok.largest < 35_000, `buffered ${ok.largest} bytes`);
  refusal(feed(big(35_001)).r, RelayError);
});

test("garbage from the client is refused", () => {
  // A TLS hello has no newline: it is refused once it outgrows the longest line allowed.
  const tls = Buffer.concat([Buffer.from([0x16, 3, 1, 2, 0, 1, 0, 1, 0xfc, 3, 3]), Buffer.alloc(1100, 0xab)]);
  for (const garbage of ["GET / HTTP/1.1\r\nHost: guest\r\n\r\n", tls, "SSH-1.5-ancient\r\n"]) {
    const r = replay(trust, [server("SSH-2.0-OpenSSH_9.9\r\n"), client(garbage)]);
    const error = refusal(r, RelayError, "relay");
    assert.match(error.message, /the client broke the SSH protocol/);
  }
  // An identification, then a binary packet that is not KEXINIT, IGNORE or DEBUG.
  refusal(replay(trust, [client("SSH-2.0-x\r\n"), client(packet(Buffer.from([21])))]), RelayError);
});

test("garbage from the server is refused", () => {
  const noise = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 13) % 256 || 1).filter((b) => b !== 10));
  const cases: Chunk[][] = [
    [server(noise)],
    [server("SSH-1.5-ancient\r\n")],
    [server(`SSH-2.0-${"x".repeat(300)}\r\n`)],
    [server("SSH-2.0-ok\r\n"), server(Buffer.from([0, 0, 0, 12, 4, 99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))],
    [server("SSH-2.0-ok\r\n"), server(Buffer.from([0, 0, 0, 2, 0, 0]))],
  ];
  for (const chunks of cases) {
    const r = replay(trust, chunks);
    const error = refusal(r, RelayError, "relay");
    assert.match(error.message, /the guest broke the SSH protocol/);
    assert.ok(!CONTROL.test(error.message));
  }
});

test("a server that answers HTTP and hangs up is refused with a RelayError", () => {
  const r = replay(trust, [server("HTTP/1.1 400 Bad Request\r\n\r\n"), client("SSH-2.0-x\r\n")], { end: true });
  refusal(r, RelayError, "relay");
});

test("abort yields RelayErrors (timeout, server-ended, client-ended), and a decision stands once made", () => {
  const expected = { timeout: /did not present its host key in time/, "server-ended": /closed the connection before presenting its host key/, "client-ended": /client closed the connection/ };
  for (const [why, text] of Object.entries(expected)) {
    const ins = createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME });
    ins.fromServer(Buffer.from("SSH-2.0-OpenSSH_9.9\r\n"));
    const o = ins.abort(why as keyof typeof expected);
    assert.equal(o.kind, "refused");
    const error = (o as { error: Ssh2vsockError }).error;
    assert.ok(error instanceof RelayError && error.exitCode === 6, show(o));
    assert.match(error.message, text);
    assert.equal(ins.outcome, o);
    assert.deepEqual(ins.fromServer(Buffer.from("more")).forward, []);
    assert.deepEqual(ins.fromClient(Buffer.from("more")).forward, []);
  }
  const ins = createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME });
  let verified;
  for (const c of craftedHandshake({ ks: KS })) verified = (c.from === "client" ? ins.fromClient(c.data) : ins.fromServer(c.data)).outcome ?? verified;
  assert.equal(verified?.kind, "verified");
  assert.equal(ins.abort("timeout"), verified);
});

test("after a refusal nothing more is forwarded in either direction", () => {
  const ins = createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME });
  const step = ins.fromServer(Buffer.concat([Buffer.from("SSH-2.0-a\r\n"), packet(disconnectPayload(11, "bye"))]));
  assert.equal(step.outcome?.kind, "refused");
  assert.deepEqual(ins.fromServer(packet(replyPayload(KS))).forward, []);
  assert.deepEqual(ins.fromClient(Buffer.from("SSH-2.0-b\r\n")).forward, []);
});
