// Public key text, blobs and fingerprints, with ssh-keygen as the oracle.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ecdsaCurveOf,
  fingerprintSha256,
  keyTypeOfBlob,
  parsePublicKeyText,
  publicKeyText,
} from "../../src/core/hostkeys/index.ts";
import { HostKeyError, UsageError } from "../../src/core/errors.ts";
import { generateTestKeys, keyPart, sshKeygen } from "./hostkeys-fixtures.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());

const kinds = [
  { name: "ed25519", key: keys.ed25519, type: "ssh-ed25519", curve: undefined },
  { name: "ecdsa 256", key: keys.ecdsa256, type: "ecdsa-sha2-nistp256", curve: "nistp256" },
  { name: "ecdsa 384", key: keys.ecdsa384, type: "ecdsa-sha2-nistp384", curve: "nistp384" },
  { name: "ecdsa 521", key: keys.ecdsa521, type: "ecdsa-sha2-nistp521", curve: "nistp521" },
  { name: "rsa", key: keys.rsa, type: "ssh-rsa", curve: undefined },
];

describe("public keys", () => {
  for (const kind of kinds) {
    test(`reads a ${kind.name} .pub line: type, blob type, curve and comment`, () => {
      const parsed = parsePublicKeyText(kind.key.text);
      assert.equal(parsed.type, kind.type);
      assert.equal(keyTypeOfBlob(parsed.blob), kind.type);
      assert.equal(ecdsaCurveOf(parsed.blob), kind.curve);
      assert.equal(parsed.comment, `${kind.name.replace(" ", "")}@test`);
      assert.equal(publicKeyText(parsed), keyPart(kind.key));
    });

    test(`prints the same SHA-256 fingerprint as ssh-keygen -lf for ${kind.name}`, () => {
      const line = sshKeygen(["-l", "-E", "sha256", "-f", kind.key.pub]);
      assert.ok(line, "ssh-keygen -lf failed");
      assert.equal(fingerprintSha256(kind.key.key.blob), line.split(" ")[1]);
    });
  }

  test("keeps a comment that contains spaces", () => {
    assert.equal(parsePublicKeyText(`${keyPart(keys.ed25519)} my laptop key`).comment, "my laptop key");
  });

  test("refuses a presented blob that does not start with a key type, as a HostKeyError", () => {
    assert.throws(() => keyTypeOfBlob(Buffer.from([0, 0, 0, 50, 0x61])), HostKeyError);
    assert.throws(() => keyTypeOfBlob(Buffer.alloc(2)), HostKeyError);
  });

  const ed = keyPart(keys.ed25519).split(" ")[1]!;
  const malformed: [string, string, RegExp][] = [
    ["an empty line", "", /expected "TYPE BASE64/],
    ["a type alone", "ssh-ed25519", /expected "TYPE BASE64/],
    ["base64 with a stray character", `ssh-ed25519 ${ed.slice(0, 10)}!${ed.slice(11)}`, /not valid base64/],
    ["a type that does not match the blob", `ssh-rsa ${ed}`, /does not match the key data \(ssh-ed25519\)/],
    ["a truncated blob", `ssh-ed25519 ${Buffer.from(keys.ed25519.key.blob.subarray(0, 30)).toString("base64")}`, /run|32 bytes/],
    ["a blob with trailing bytes", `ssh-ed25519 ${Buffer.concat([keys.ed25519.key.blob, Buffer.from([0, 0, 0, 0])]).toString("base64")}`, /trailing/],
    ["an ECDSA blob whose curve differs from its type", `ecdsa-sha2-nistp384 ${relabel(keys.ecdsa256.key.blob, "ecdsa-sha2-nistp384").toString("base64")}`, /curve nistp256 does not match/],
  ];
  for (const [what, text, why] of malformed) {
    test(`refuses ${what} with a UsageError saying why`, () => {
      assert.throws(() => parsePublicKeyText(text), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, why);
        assert.ok(error.hint);
        return true;
      });
    });
  }
});

// Rewrites the type string at the head of a blob, leaving the rest as it was.
function relabel(blob: Buffer, type: string): Buffer {
  const oldLength = blob.readUInt32BE(0);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(type.length);
  return Buffer.concat([head, Buffer.from(type), blob.subarray(4 + oldLength)]);
}
