// Chunk boundaries must not matter: real recordings re-cut at every byte (and byte by byte) give
// the same verdict and the same forwarded bytes as the recording cut as it was.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { InspectorOutcome } from "../../src/core/handshake/inspector.ts";
import { HandshakeLab } from "./_handshake-lab.ts";
import { kindOf, recordSet, type Recording } from "./_handshake-recorder.ts";
import { byteByByte, describe as show, knownHostsLine, policyFrom, replay, splitAt } from "./_handshake-replay.ts";
import { bytesFrom, findReply, type Chunk } from "./_handshake-wire.ts";

const lab = new HandshakeLab();
after(() => lab.stop());
const ED = "ssh-ed25519";
const recordings = await recordSet(lab, {
  openssh: [
    { kex: "curve25519-sha256", hostKeyAlgorithms: ED },
    ...["ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512", "sntrup761x25519-sha512@openssh.com"].map((kex) => ({ kex, hostKeyAlgorithms: ED })),
    { kex: "diffie-hellman-group-exchange-sha256", hostKeyAlgorithms: "rsa-sha2-512" },
    { kex: "ecdh-sha2-nistp256", hostKeyAlgorithms: "ecdsa-sha2-nistp256" },
  ],
  dropbearServer: [{ kex: "curve25519-sha256", hostKeyAlgorithms: ED }],
  dbclient: true,
});

/** What must not change with the chunking: the decision and exactly what is forwarded. */
function signature(o: InspectorOutcome | undefined): string {
  if (o?.kind !== "verified") return show(o);
  return `verified ${o.kex} ${o.algorithm} ${o.hostKey.blob.toString("base64")} ${o.serverIdent} ${o.clientIdent}`;
}

/** Every way to cut one chunk of `from` in two, as a list of re-chunked recordings (lazily). */
function* everySplit(chunks: Chunk[], from: Chunk["from"], upTo: number): Generator<[number, Chunk[]]> {
  for (let at = 1; at < upTo; at++) yield [at, splitAt(chunks, from, at)];
}

for (const r of recordings) {
  describe(r.name, () => {
    const key = () => r.serverKeys[kindOf(r.hostKeyAlgorithm)];

    test("verifies with the same verdict and the same forwarded bytes at every split point of either direction", async () => {
      const trust = await policyFrom([knownHostsLine(key().line)]);
      const base = replay(trust, r.chunks);
      assert.equal(base.outcome?.kind, "verified", show(base.outcome));
      const want = signature(base.outcome);
      const toServer = bytesFrom(r.chunks, "client");
      const toClient = bytesFrom(r.chunks, "server");
      for (const from of ["client", "server"] as const) {
        const total = from === "client" ? toServer.length : toClient.length;
        for (const [at, chunks] of everySplit(r.chunks, from, total)) {
          const got = replay(trust, chunks);
          if (signature(got.outcome) !== want) assert.fail(`${from} split at ${at}: ${show(got.outcome)}, want ${want}`);
          if (!got.toServer.equals(toServer) || !got.toClient.equals(toClient)) assert.fail(`${from} split at ${at}: forwarded bytes differ`);
          if (got.decisions !== 1) assert.fail(`${from} split at ${at}: ${got.decisions} decisions`);
        }
      }
    });

    test("verifies with the same verdict and forwarded bytes when fed byte by byte", async () => {
      const trust = await policyFrom([knownHostsLine(key().line)]);
      const got = replay(trust, byteByByte(r.chunks));
      assert.equal(signature(got.outcome), signature(replay(trust, r.chunks).outcome));
      assert.ok(got.toServer.equals(bytesFrom(r.chunks, "client")));
      assert.ok(got.toClient.equals(bytesFrom(r.chunks, "server")));
    });

    test("is refused the same way at every split point of the server's bytes when the key changed, never leaking the reply", async () => {
      const trust = await policyFrom([knownHostsLine(lab.otherKeys[kindOf(r.hostKeyAlgorithm)].line)]);
      const reply = findReply(r);
      const base = replay(trust, r.chunks);
      assert.equal(base.outcome?.kind, "refused");
      const want = signature(base.outcome);
      // Past the reply's end the decision is already made: the cut points that matter come before it.
      const cuts = [...everySplit(r.chunks, "server", reply.end + 1)].map(([at, c]) => [`server ${at}`, c] as const);
      for (const [what, chunks] of [...cuts, ["byte by byte", byteByByte(r.chunks)] as const]) {
        const got = replay(trust, chunks);
        if (signature(got.outcome) !== want) assert.fail(`${what}: ${show(got.outcome)}, want ${want}`);
        if (got.toClient.length > reply.start) assert.fail(`${what}: ${got.toClient.length} bytes reached the client, the reply starts at ${reply.start}`);
      }
    });
  });
}
