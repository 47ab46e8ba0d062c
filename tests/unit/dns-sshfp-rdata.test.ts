import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMessage } from "../../src/core/dns/_message.ts";
import { decodeSshfpRdata } from "../../src/core/dns/sshfp-rdata.ts";
import { filterSshfp } from "../../src/core/dns/sshfp.ts";
import { buildMessage, sshfpRdata, TYPE_SSHFP } from "../lab/dns-fake.ts";

const sha256 = Buffer.alloc(32, 0xab);
const sha1 = Buffer.alloc(20, 0xcd);
// A future fingerprint type (3) with a 48-byte digest that dns-packet cannot size.
const future = Buffer.alloc(48, 0xef);

test("decodes SSHFP RDATA of any fingerprint length by its RDLENGTH", () => {
  assert.deepEqual(decodeSshfpRdata(sshfpRdata(4, 2, sha256)), { algorithm: 4, fingerprintType: 2, fingerprint: sha256 });
  assert.deepEqual(decodeSshfpRdata(sshfpRdata(1, 1, sha1)), { algorithm: 1, fingerprintType: 1, fingerprint: sha1 });
  assert.deepEqual(decodeSshfpRdata(sshfpRdata(3, 3, future)), { algorithm: 3, fingerprintType: 3, fingerprint: future });
  assert.deepEqual(decodeSshfpRdata(Buffer.from([4, 9])), { algorithm: 4, fingerprintType: 9, fingerprint: Buffer.alloc(0) });
});

test("refuses SSHFP RDATA shorter than its two fixed octets", () => {
  assert.throws(() => decodeSshfpRdata(Buffer.from([4])), /shorter than its 2 fixed octets/);
});

test("a type-3 SSHFP record does not corrupt the type-2 record after it", () => {
  const wire = buildMessage({
    id: 7,
    question: { name: "web1.example.com" },
    answers: [
      { type: TYPE_SSHFP, rdata: sshfpRdata(3, 3, future) },
      { type: TYPE_SSHFP, rdata: sshfpRdata(4, 2, sha256) },
    ],
  });
  const msg = decodeMessage(wire);
  assert.equal(msg.answers.length, 2);
  assert.equal(msg.answers[0]!.name, "web1.example.com");
  assert.deepEqual(msg.answers.map((a) => decodeSshfpRdata(a.rdata)), [
    { algorithm: 3, fingerprintType: 3, fingerprint: future },
    { algorithm: 4, fingerprintType: 2, fingerprint: sha256 },
  ]);
  const { fingerprints, warnings } = filterSshfp(msg.answers.map((a) => decodeSshfpRdata(a.rdata)), "SRC");
  assert.deepEqual(fingerprints, [{ algorithm: 4, sha256, source: "SRC" }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /unknown fingerprint type 3/);
});

const malformed: [string, Buffer, RegExp][] = [
  ["a short header", Buffer.alloc(5), /shorter than a DNS header/],
  [
    "a record whose RDLENGTH runs past the end",
    buildMessage({ id: 1, question: { name: "a.b" }, answers: [{ type: 44, rdata: sshfpRdata(4, 2, sha256) }] }).subarray(0, -3),
    /record data runs past the end/,
  ],
  [
    "trailing bytes",
    Buffer.concat([buildMessage({ id: 1, question: { name: "a.b" } }), Buffer.from([1, 2])]),
    /2 unexpected bytes/,
  ],
  [
    "a compression pointer loop",
    (() => {
      const m = buildMessage({ id: 1, question: { name: "a.b" } });
      const looped = Buffer.from(m);
      looped[12] = 0xc0; // the question's name points at itself
      looped[13] = 12;
      return looped;
    })(),
    /compression loops/,
  ],
];

for (const [what, wire, why] of malformed) {
  test(`refuses a DNS message with ${what}`, () => {
    assert.throws(() => decodeMessage(wire), why);
  });
}

const policy: [string, [number, number, Buffer], RegExp | null][] = [
  ["keeps RSA SHA-256", [1, 2, sha256], null],
  ["keeps ECDSA SHA-256", [3, 2, sha256], null],
  ["keeps Ed25519 SHA-256", [4, 2, sha256], null],
  ["skips SHA-1", [4, 1, sha1], /SHA-1 fingerprints are not trusted/],
  ["skips DSA", [2, 2, sha256], /DSA keys are never accepted/],
  ["skips Ed448", [6, 2, sha256], /algorithm 6 is not supported/],
  ["skips an unknown algorithm", [9, 2, sha256], /algorithm 9 is not supported/],
  ["skips a SHA-256 record of the wrong length", [4, 2, sha1], /32 bytes, not 20/],
];

for (const [what, [algorithm, fingerprintType, fingerprint], why] of policy) {
  test(`SSHFP policy ${what}`, () => {
    const out = filterSshfp([{ algorithm, fingerprintType, fingerprint }], "SSHFP h via r (DNSSEC)");
    if (why === null) {
      assert.deepEqual(out, { fingerprints: [{ algorithm, sha256: fingerprint, source: "SSHFP h via r (DNSSEC)" }], warnings: [] });
    } else {
      assert.deepEqual(out.fingerprints, []);
      assert.equal(out.warnings.length, 1);
      assert.match(out.warnings[0]!, why);
      assert.match(out.warnings[0]!, /^SSHFP h via r \(DNSSEC\): ignored record/);
    }
  });
}
