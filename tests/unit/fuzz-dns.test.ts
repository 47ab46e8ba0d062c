// Seeded fuzzing of DNS answers and SSHFP rdata through the SSHFP lookup: damaged real answers
// and random bytes give validated fingerprints that the answer really carries, or exit 3.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Duplex } from "node:stream";
import dnsPacket from "dns-packet";
import { HostKeyError } from "../../src/core/errors.ts";
import { sshfpTrust, type SshfpTrust } from "../../src/core/dns/sshfp.ts";
import { decodeSshfpRdata, filterSshfp } from "../../src/core/dns/index.ts";
import type { DnsDialer } from "../../src/core/dns/transport.ts";
import { emptyAnchors, verifyHostKey, type PublicKey } from "../../src/core/hostkeys/index.ts";
import { buildMessage, encodeName, frame, sshfpRdata, TYPE_CNAME, TYPE_SSHFP, type FakeRecord } from "../lab/dns-fake.ts";
import { assertTypedError, FUZZ_SEED, fuzz, mutateBytesTimes, Rand } from "./_fuzz.ts";

const NAME = "web1.example.com";

/** A public key blob as the wire carries it (only its bytes matter to fingerprints). */
function keyBlob(type: string, body: Buffer): PublicKey {
  const field = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length);
    return Buffer.concat([length, b]);
  };
  return { type, blob: Buffer.concat([field(Buffer.from(type)), field(body)]) };
}
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();
// The guest's real key, published in the answers; and a key no answer ever names.
const guest = keyBlob("ssh-ed25519", Buffer.alloc(32, 0x11));
const stranger = keyBlob("ssh-ed25519", Buffer.alloc(32, 0x22));

/** Records of a real answer: usable, SHA-1, unknown types, DSA, a CNAME to follow. */
function records(rand: Rand): FakeRecord[] {
  const all: FakeRecord[] = [
    { type: TYPE_SSHFP, rdata: sshfpRdata(4, 2, sha256(guest.blob)) },
    { type: TYPE_SSHFP, rdata: sshfpRdata(4, 1, createHash("sha1").update(guest.blob).digest()) },
    { type: TYPE_SSHFP, rdata: sshfpRdata(3, 2, Buffer.alloc(32, 0x33)) },
    { type: TYPE_SSHFP, rdata: sshfpRdata(1, 3, Buffer.alloc(48, 0x44)) },
    { type: TYPE_SSHFP, rdata: sshfpRdata(2, 2, Buffer.alloc(32, 0x55)) },
    { type: TYPE_SSHFP, rdata: sshfpRdata(9, 9, Buffer.alloc(3, 0x66)) },
    { type: TYPE_CNAME, rdata: encodeName("alias.example.com") },
    { name: "alias.example.com", type: TYPE_SSHFP, rdata: sshfpRdata(1, 2, Buffer.alloc(32, 0x77)) },
  ];
  return all.filter(() => rand.chance(0.6));
}

/** A dialer whose resolver answers each query with `reply(query id)`'s chunks, then closes. */
function scripted(reply: (id: number) => Buffer[]): DnsDialer {
  return {
    async connect() {
      const stream: Duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          const id = dnsPacket.streamDecode(chunk).id!;
          setImmediate(() => {
            for (const c of reply(id)) stream.push(c);
            stream.push(null);
          });
          cb();
        },
      });
      return stream;
    },
  };
}

interface DnsInput {
  /** The message bytes as sent (after damage), the ID patched in by `withId`. */
  message: (id: number) => Buffer;
  /** How the framed bytes are cut into chunks. */
  cuts: number[];
  /** Frame length prefix to use instead of the real one. */
  lengthOverride?: number;
}

function split(data: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (c <= at || c >= data.length) continue;
    out.push(data.subarray(at, c));
    at = c;
  }
  out.push(data.subarray(at));
  return out;
}

/** What a resolved lookup must satisfy, given the bytes that were really on the wire. */
function checkTrust(trust: SshfpTrust, wire: Buffer, where: string): void {
  assert.ok(wire.length >= 12 && (wire[2]! & 0x80) !== 0 && (wire[3]! & 0x20) !== 0 && (wire[3]! & 0x0f) === 0, `${where}: accepted without QR, AD and NOERROR`);
  for (const fp of trust.fingerprints) {
    assert.ok([1, 3, 4].includes(fp.algorithm), `${where}: algorithm ${fp.algorithm} trusted`);
    assert.equal(fp.sha256.length, 32, `${where}: a ${fp.sha256.length}-byte fingerprint`);
    assert.ok(wire.includes(Buffer.concat([Buffer.from([fp.algorithm, 2]), fp.sha256])), `${where}: a fingerprint the answer does not carry`);
  }
  const anchors = { ...emptyAnchors(), fingerprints: trust.fingerprints };
  assert.notEqual(verifyHostKey(anchors, stranger).kind, "trusted", `${where}: a key no record names is trusted`);
  if (verifyHostKey(anchors, guest).kind === "trusted") {
    assert.ok(wire.includes(Buffer.concat([Buffer.from([4, 2]), sha256(guest.blob)])), `${where}: the guest's key trusted without its record`);
  }
}

/** Runs one lookup and checks it; true when it resolved with fingerprints. */
async function checkLookup(input: DnsInput, context: string): Promise<boolean> {
  let wire: Buffer = Buffer.alloc(0);
  const dialer = scripted((id) => {
    wire = input.message(id);
    const framed = frame(wire);
    if (input.lengthOverride !== undefined) framed.writeUInt16BE(input.lengthOverride, 0);
    return split(framed, input.cuts);
  });
  let trust: SshfpTrust;
  try {
    trust = await sshfpTrust(NAME, "127.0.0.1:53", { dialer, timeoutMs: 2000 });
  } catch (error) {
    assertTypedError(error, context, [HostKeyError]);
    assert.equal(error.exitCode, 3, context);
    assert.notEqual(error.code, "dns-timeout", `${context}: a closed connection was taken for a timeout`);
    return false;
  }
  checkTrust(trust, wire, context);
  return true;
}

function cuts(rand: Rand): number[] {
  return Array.from({ length: rand.int(4) }, () => rand.int(80)).sort((a, b) => a - b);
}

test(`damaged real SSHFP answers give only fingerprints they carry, or exit 3 (seed ${FUZZ_SEED + 40})`, async () => {
  let resolved = 0;
  await fuzz("DNS answers (mutated)", { seed: FUZZ_SEED + 40, count: 6000, note: () => `${resolved} resolved with fingerprints` }, (rand) => {
    const recs = records(rand);
    const edits = rand.int(4);
    const editSeed = rand.int(2 ** 31);
    return {
      message: (id: number) => {
        const real = buildMessage({ id, question: { name: rand.chance(0.9) ? NAME : NAME.toUpperCase() }, answers: recs });
        // Replay the same damage for whatever ID the query had.
        return edits === 0 ? real : mutateBytesTimes(new Rand(editSeed), real, [real], edits);
      },
      cuts: cuts(rand),
      lengthOverride: rand.chance(0.05) ? rand.pick([0, 1, 11, 0xffff]) : undefined,
    } satisfies DnsInput;
  }, async (input, context) => {
    if (await checkLookup(input, context)) resolved++;
  });
  // Damage that still parses must occur, or the checks on accepted answers never ran.
  assert.ok(resolved > 0);
});

test(`random bytes from the resolver never trust a key and fail with exit 3 (seed ${FUZZ_SEED + 41})`, async () => {
  await fuzz("DNS answers (random)", { seed: FUZZ_SEED + 41, count: 5000 }, (rand) => {
    const body = rand.bytes(rand.int(600));
    const keepHeader = rand.chance(0.7);
    return {
      message: (id: number) => {
        if (!keepHeader || body.length < 12) return body;
        // A plausible header (our ID, QR, AD, one question) so the randomness reaches the records.
        const b = Buffer.from(body);
        b.writeUInt16BE(id, 0);
        b.writeUInt16BE(0x81a0, 2);
        b.writeUInt16BE(1, 4);
        return b;
      },
      cuts: cuts(rand),
    } satisfies DnsInput;
  }, checkLookup);
});

test(`SSHFP rdata of any length and content is read by its RDLENGTH and filtered without throwing (seed ${FUZZ_SEED + 42})`, async () => {
  await fuzz("SSHFP rdata", { seed: FUZZ_SEED + 42, count: 20_000 }, (rand) => {
    const rdata = rand.chance(0.5) ? sshfpRdata(rand.int(8), rand.int(4), rand.bytes(rand.pick([0, 1, 20, 31, 32, 33, 64, rand.int(300)]))) : rand.bytes(rand.int(40));
    return rdata;
  }, (rdata, context) => {
    if (rdata.length < 2) {
      // Documented: too short to hold its two fixed octets (the lookup turns this into a warning).
      assert.throws(() => decodeSshfpRdata(rdata), /shorter than its 2 fixed octets/, context);
      return;
    }
    const record = decodeSshfpRdata(rdata);
    assert.deepEqual([record.algorithm, record.fingerprintType, record.fingerprint], [rdata[0], rdata[1], rdata.subarray(2)], context);
    const { fingerprints, warnings } = filterSshfp([record], "SSHFP fuzz");
    assert.equal(fingerprints.length + warnings.length, 1, `${context}: a record neither used nor reported`);
    if (fingerprints.length === 1) {
      assert.ok([1, 3, 4].includes(record.algorithm) && record.fingerprintType === 2 && record.fingerprint.length === 32, `${context}: used`);
    }
  });
});
