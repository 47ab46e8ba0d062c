// Seeded fuzzing of the handshake inspector with crafted server and client streams, damaged and
// cut at random: it never throws, never lets an unverified key exchange reply through, never
// verifies a key no known_hosts line trusts, and holds at most one packet per direction.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHandshakeInspector, type HandshakeTrust, type InspectorOutcome } from "../../src/core/handshake/inspector.ts";
import { MAX_PACKET_BYTES } from "../../src/core/handshake/framer.ts";
import { generateTestKeys, keyPart } from "./hostkeys-fixtures.ts";
import { HOSTNAME, LABEL, policyFrom } from "./_handshake-replay.ts";
import { cleartextItems, debugPayload, disconnectPayload, ignorePayload, kexinit, packet, replyPayload, str } from "./_handshake-wire.ts";
import { assertTypedError, FUZZ_SEED, fuzz, hasControl, mutateBytesTimes, show, type Rand } from "./_fuzz.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());
const trustedKeys = [keys.ed25519, keys.ecdsa256, keys.rsa];
const revoked = keys.ecdsa384;
const trust: HandshakeTrust = await policyFrom([
  ...trustedKeys.map((k) => `${HOSTNAME} ${keyPart(k)}`),
  `@revoked ${HOSTNAME} ${keyPart(revoked)}`,
]);
const trustedBlobs = trustedKeys.map((k) => k.key.blob);

const KEX = [
  "curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group-exchange-sha256", "sntrup761x25519-sha512@openssh.com",
  "mlkem768x25519-sha256", "diffie-hellman-group14-sha256", "ext-info-c", "kex-strict-s-v00@openssh.com", "unknown-kex@example.com",
];
const HOST_KEY_ALGORITHMS = [
  "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519-cert-v01@openssh.com",
];
const GEX = (kex: string) => kex.startsWith("diffie-hellman-group-exchange-");

/** A few names from `names`, in random order, never empty. */
function someOf(rand: Rand, names: readonly string[]): string[] {
  const out = names.filter(() => rand.chance(0.4));
  if (out.length === 0) out.push(rand.pick(names));
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The key a server with our keys would present for `algorithm` (nistp384 is the revoked one). */
const KEY_FOR: Record<string, Buffer> = {
  "ssh-ed25519": keys.ed25519.key.blob,
  "ecdsa-sha2-nistp256": keys.ecdsa256.key.blob,
  "ecdsa-sha2-nistp384": revoked.key.blob,
  "rsa-sha2-512": keys.rsa.key.blob,
  "rsa-sha2-256": keys.rsa.key.blob,
  "ssh-rsa": keys.rsa.key.blob,
};

/** K_S: usually the key for the negotiated algorithm; else a trusted, revoked or unknown key, or no key at all. */
function hostKeyBlob(rand: Rand, algorithm: string | undefined): Buffer {
  const own = algorithm === undefined ? undefined : KEY_FOR[algorithm];
  if (own && rand.chance(0.6)) return own;
  switch (rand.int(8)) {
    case 0: return keys.ed25519b.key.blob;
    case 1: return revoked.key.blob;
    case 2: return rand.bytes(rand.int(64));
    case 3: return Buffer.concat([str(rand.text(12)), rand.bytes(32)]);
    default: return rand.pick(trustedBlobs);
  }
}

interface Streams {
  server: Buffer;
  client: Buffer;
}

/** A whole cleartext handshake as both sides would send it, then some "encrypted" bytes. */
function handshake(rand: Rand): Streams {
  const serverKex = someOf(rand, KEX);
  const serverHostKey = someOf(rand, HOST_KEY_ALGORITHMS);
  // The client usually shares the server's first choices, so that many streams get to the reply.
  const clientKex = rand.chance(0.7) ? [serverKex[0]!, ...someOf(rand, KEX)] : someOf(rand, KEX);
  const clientHostKey = rand.chance(0.7) ? [serverHostKey[0]!, ...someOf(rand, HOST_KEY_ALGORITHMS)] : someOf(rand, HOST_KEY_ALGORITHMS);
  const gex = GEX(clientKex.find((k) => serverKex.includes(k)) ?? "");
  const algorithm = clientHostKey.find((a) => serverHostKey.includes(a));
  // Lines as they are sent; packets as payloads, framed last so a damaged payload can stay well framed.
  const server: Array<{ line: Buffer } | { payload: Buffer }> = [];
  const line = (text: string) => server.push({ line: Buffer.from(text, "latin1") });
  const payload = (p: Buffer) => server.push({ payload: p });
  for (let n = rand.int(3); n > 0; n--) line(rand.pick(["Welcome\r\n", "\x1b[31mbanner\x07\r\n", `${rand.text(40)}\n`]));
  line(rand.pick(["SSH-2.0-OpenSSH_9.9\r\n", "SSH-2.0-dropbear_2025.88\r\n", "SSH-1.99-x\n"]));
  for (let n = rand.int(3); n > 0; n--) payload(rand.chance(0.5) ? ignorePayload(rand.text(30)) : debugPayload(rand.text(30)));
  payload(kexinit(serverKex, serverHostKey, rand.chance(0.05)));
  if (gex) payload(Buffer.concat([Buffer.from([31]), str(rand.bytes(33)), str(Buffer.from([2]))]));
  if (rand.chance(0.05)) payload(disconnectPayload(rand.int(16), `bye ${rand.text(20)}\x1b[2J`));
  payload(replyPayload(hostKeyBlob(rand, algorithm), gex ? 33 : 31));
  payload(Buffer.from([21]));
  if (rand.chance(0.3)) {
    // Damage inside one payload (a name-list, K_S, a length field), then frame it properly.
    const packets = server.filter((item) => "payload" in item);
    const item = rand.pick(packets);
    item.payload = mutateBytesTimes(rand, item.payload, packets.map((i) => i.payload), 2);
    if (item.payload.length === 0) item.payload = Buffer.from([rand.int(256)]);
  }
  const framed = server.map((item) => ("line" in item ? item.line : packet(item.payload)));
  const client = [
    Buffer.from("SSH-2.0-OpenSSH_9.9\r\n"),
    packet(kexinit(clientKex, clientHostKey)),
    packet(gex ? Buffer.concat([Buffer.from([34]), Buffer.alloc(12, 8)]) : Buffer.concat([Buffer.from([30]), str(rand.bytes(32))])),
  ];
  return { server: Buffer.concat([...framed, rand.bytes(rand.int(100))]), client: Buffer.concat(client) };
}

interface Input extends Streams {
  /** The order both streams reach the inspector in: which side, and how many bytes. */
  steps: Array<{ side: "server" | "client"; length: number }>;
}

function damaged(rand: Rand): Input {
  const { server, client } = handshake(rand);
  const streams: Streams = rand.chance(0.06)
    ? { server: rand.chance(0.5) ? rand.bytes(rand.int(400)) : Buffer.concat([Buffer.from("SSH-2.0-x\r\n"), rand.bytes(rand.int(400))]), client }
    : {
        server: rand.chance(0.4) ? mutateBytesTimes(rand, server, [server, client]) : server,
        client: rand.chance(0.1) ? mutateBytesTimes(rand, client, [client]) : client,
      };
  const steps: Input["steps"] = [];
  const left = { server: streams.server.length, client: streams.client.length };
  while (left.server > 0 || left.client > 0) {
    const side = left.client === 0 || (left.server > 0 && rand.chance(0.6)) ? "server" : "client";
    const length = Math.min(left[side], rand.chance(0.3) ? 1 + rand.int(8) : 1 + rand.int(400));
    steps.push({ side, length });
    left[side] -= length;
  }
  return { ...streams, steps };
}

/** The message type that carries K_S for the negotiated method, if one was negotiated. */
const replyType = (kex: string | undefined) => (kex === undefined ? undefined : GEX(kex) ? 33 : 31);

function checkRefusal(outcome: InspectorOutcome, context: string): void {
  if (outcome.kind !== "refused") return;
  const error = outcome.error;
  assertTypedError(error, context);
  assert.ok(!hasControl(error.message), `${context}: raw control characters in ${show(error.message)}`);
  if (error.hint) assert.ok(!hasControl(error.hint), `${context}: raw control characters in the hint ${show(error.hint)}`);
}

function checkInput(input: Input, context: string): "verified" | "refused" {
  const inspector = createHandshakeInspector(trust, { label: LABEL, hostname: HOSTNAME });
  const at = { server: 0, client: 0 };
  const forwarded = { server: [] as Buffer[], client: [] as Buffer[] };
  let decided: InspectorOutcome | undefined;
  for (const { side, length } of input.steps) {
    const chunk = input[side].subarray(at[side], at[side] + length);
    at[side] += length;
    let step;
    try {
      step = side === "server" ? inspector.fromServer(chunk) : inspector.fromClient(chunk);
    } catch (error) {
      assert.fail(`${context}: the inspector threw: ${(error as Error)?.stack ?? String(error)}`);
    }
    if (decided?.kind === "refused") assert.equal(step.forward.length, 0, `${context}: forwarded bytes after refusing`);
    forwarded[side].push(...step.forward);
    if (step.outcome) {
      assert.ok(decided === undefined || decided === step.outcome, `${context}: decided twice`);
      decided = step.outcome;
    }
    assert.ok(inspector.buffered <= 2 * MAX_PACKET_BYTES, `${context}: ${inspector.buffered} bytes held back`);
  }
  const outcome = decided ?? inspector.abort("server-ended");
  checkRefusal(outcome, context);
  // The inspector passes on what it received, in order, and never makes up bytes.
  for (const side of ["server", "client"] as const) {
    const out = Buffer.concat(forwarded[side]);
    assert.ok(out.equals(input[side].subarray(0, out.length)), `${context}: the ${side}'s bytes were changed on the way`);
    if (outcome.kind === "verified") assert.equal(out.length, input[side].length, `${context}: verified, yet the ${side}'s bytes were held back`);
  }
  if (outcome.kind === "verified") {
    assert.ok(trustedBlobs.some((b) => b.equals(outcome.hostKey.blob)), `${context}: verified a key no line trusts`);
    assert.equal(trust.verify(outcome.hostKey).kind, "trusted", context);
    assert.ok(trust.algorithms.includes(outcome.algorithm) && outcome.algorithm !== "ssh-rsa", `${context}: verified with ${outcome.algorithm}`);
    return "verified";
  }
  // Unverified, the client never saw the message carrying K_S (the GEX group, also 31, may pass).
  const reply = replyType(inspector.kex);
  for (const item of cleartextItems(Buffer.concat(forwarded.server))) {
    if (item.kind !== "packet") continue;
    const allowed = [2, 3, 4, 20, ...(reply === 33 ? [31] : [])];
    assert.ok(allowed.includes(item.type), `${context}: message ${item.type} reached the client before a decision (${outcome.error.message})`);
  }
  return "refused";
}

test(`damaged handshakes never throw, never pass an unverified reply and never trust an unlisted key (seed ${FUZZ_SEED + 60})`, async () => {
  const tally = { verified: 0, refused: 0 };
  await fuzz("handshake inspector", { seed: FUZZ_SEED + 60, count: 8000, note: () => `${tally.verified} verified, ${tally.refused} refused` }, damaged, (input, context) => {
    tally[checkInput(input, context)]++;
  });
  // Both outcomes must occur, or half of the checks never ran.
  assert.ok(tally.verified > 0 && tally.refused > 0, JSON.stringify(tally));
});
