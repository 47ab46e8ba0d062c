// Parsing OpenSSH certificates made by ssh-keygen (every key type under every CA type, with
// `ssh-keygen -L` as the oracle), the one-line description, and refusal of malformed blobs.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  certifiedKeyType,
  describeCertificate,
  fingerprintSha256,
  FOREVER,
  isCertificateType,
  keyFingerprint,
  parseCertificate,
  verifyCertificateSignature,
  type SshCertificate,
} from "../../src/core/hostkeys/index.ts";
import { HostKeyError } from "../../src/core/errors.ts";
import {
  CertificateLab,
  CraftingCa,
  KEY_KINDS,
  PLAIN_TYPE,
  fingerprintOf,
  joinCertificate,
  listCertificate,
  optionList,
  principalList,
  splitCertificate,
  sshString,
  uint32,
  type GeneratedKey,
  type KeyKind,
} from "./_certificate-fixtures.ts";

const lab = new CertificateLab();
after(() => lab.cleanup());

const cas = Object.fromEntries(KEY_KINDS.map((k) => [k, lab.key(k, `ca-${k}`)])) as Record<KeyKind, GeneratedKey>;
const subjects = Object.fromEntries(KEY_KINDS.map((k) => [k, lab.key(k, `host-${k}`)])) as Record<KeyKind, GeneratedKey>;
const crafter = new CraftingCa();

/** The fields `ssh-keygen -L` prints, read from its output. */
function oracle(path: string) {
  const text = listCertificate(path);
  const field = (name: string) => new RegExp(`^\\s*${name}: ?(.*)$`, "m").exec(text)?.[1]?.trim();
  const block = (name: string) => {
    const match = new RegExp(`^\\s*${name}: ?(.*)\\n((?:\\s{16}.*\\n?)*)`, "m").exec(text);
    if (!match || match[1]!.trim() === "(none)") return [];
    return match[2]!.split("\n").map((l) => l.trim()).filter(Boolean);
  };
  const [, typeName, kind] = /^(\S+) (user|host) certificate$/.exec(field("Type")!)!;
  const [, caFingerprint, signatureAlgorithm] = /(SHA256:\S+) \(using (\S+)\)/.exec(field("Signing CA")!)!;
  const valid = field("Valid")!;
  const window = /^from (\S+) to (\S+)$/.exec(valid);
  const toSeconds = (iso: string) => (iso === "forever" ? FOREVER : BigInt(Date.parse(`${iso}Z`) / 1000));
  return {
    type: typeName!,
    kind: kind!,
    keyFingerprint: field("Public key")!.split(" ")[1],
    caFingerprint: caFingerprint!,
    signatureAlgorithm: signatureAlgorithm!,
    keyId: JSON.parse(field("Key ID")!) as string,
    serial: BigInt(field("Serial")!),
    validAfter: valid === "forever" ? 0n : toSeconds(window![1]!),
    validBefore: valid === "forever" ? FOREVER : toSeconds(window![2]!),
    principals: block("Principals"),
    criticalOptions: block("Critical Options").map((l) => l.split(" ")[0]),
    extensions: block("Extensions").map((l) => l.split(" ")[0]),
  };
}

function assertMatchesOracle(cert: SshCertificate, path: string): void {
  const o = oracle(path);
  assert.equal(cert.type, o.type);
  assert.equal(cert.kind, o.kind);
  assert.equal(fingerprintSha256(cert.key.blob), o.keyFingerprint);
  assert.equal(fingerprintSha256(cert.signatureKey.blob), o.caFingerprint);
  assert.equal(cert.signature.algorithm, o.signatureAlgorithm);
  assert.equal(cert.keyId, o.keyId);
  assert.equal(cert.serial, o.serial);
  assert.equal(cert.validAfter, o.validAfter);
  assert.equal(cert.validBefore, o.validBefore);
  assert.deepEqual(cert.principals, o.principals);
  assert.deepEqual(cert.criticalOptions.map((c) => c.name), o.criticalOptions);
  assert.deepEqual(cert.extensions.map((e) => e.name), o.extensions);
}

const signers: { name: string; ca: KeyKind; algorithm?: string; expected: string }[] = [
  { name: "an Ed25519 CA", ca: "ed25519", expected: "ssh-ed25519" },
  { name: "an ECDSA P-256 CA", ca: "ecdsa256", expected: "ecdsa-sha2-nistp256" },
  { name: "an ECDSA P-384 CA", ca: "ecdsa384", expected: "ecdsa-sha2-nistp384" },
  { name: "an ECDSA P-521 CA", ca: "ecdsa521", expected: "ecdsa-sha2-nistp521" },
  { name: "an RSA CA signing rsa-sha2-256", ca: "rsa", algorithm: "rsa-sha2-256", expected: "rsa-sha2-256" },
  { name: "an RSA CA signing rsa-sha2-512", ca: "rsa", algorithm: "rsa-sha2-512", expected: "rsa-sha2-512" },
];

describe("parseCertificate", () => {
  for (const signer of signers) {
    test(`reads every key type certified by ${signer.name}, field for field as ssh-keygen -L, and verifies its signature`, () => {
      for (const kind of KEY_KINDS) {
        const signed = lab.sign({
          ca: cas[signer.ca],
          subject: subjects[kind],
          id: `web1 ${kind}`,
          principals: ["web1.example.com", "*.web.example.com"],
          validity: "-1h:+1d",
          serial: 7,
          ...(signer.algorithm ? { algorithm: signer.algorithm } : {}),
        });
        const cert = parseCertificate(signed.blob);
        assert.equal(cert.type, `${PLAIN_TYPE[kind]}-cert-v01@openssh.com`, kind);
        assert.deepEqual(cert.key, subjects[kind].key, `${kind}: the certified key is the plain key`);
        assert.equal(fingerprintSha256(cert.key.blob), fingerprintOf(subjects[kind].pub));
        assert.deepEqual(cert.signatureKey, cas[signer.ca].key);
        assert.equal(cert.signature.algorithm, signer.expected);
        assert.ok(cert.blob.equals(signed.blob));
        assert.ok(cert.signedData.equals(signed.blob.subarray(0, cert.signedData.length)));
        assertMatchesOracle(cert, signed.path);
        assert.deepEqual(verifyCertificateSignature(cert), { ok: true }, `${kind} under ${signer.name}`);
      }
    });
  }

  test("reads a certificate an RSA CA signed with SHA-1 (ssh-rsa) but never verifies it", () => {
    const signed = lab.sign({ ca: cas.rsa, subject: subjects.ed25519, principals: ["web1"], algorithm: "ssh-rsa" });
    const cert = parseCertificate(signed.blob);
    assertMatchesOracle(cert, signed.path);
    assert.equal(cert.signature.algorithm, "ssh-rsa");
    assert.deepEqual(verifyCertificateSignature(cert), { ok: false, reason: "signed with SHA-1 (ssh-rsa), which is never accepted" });
  });

  test("fingerprints a certificate by its certified key, as ssh-keygen does, and a plain key by itself", () => {
    const signed = lab.sign({ ca: cas.ed25519, subject: subjects.ecdsa256, principals: ["web1"] });
    const presented = { type: parseCertificate(signed.blob).type, blob: signed.blob };
    assert.equal(keyFingerprint(presented), oracle(signed.path).keyFingerprint);
    assert.equal(keyFingerprint(presented), fingerprintOf(subjects.ecdsa256.pub));
    assert.equal(keyFingerprint(subjects.ecdsa256.key), fingerprintOf(subjects.ecdsa256.pub));
    // A damaged certificate keeps the fingerprint of what was presented.
    const damaged = { type: presented.type, blob: signed.blob.subarray(0, 40) };
    assert.equal(keyFingerprint(damaged), fingerprintSha256(damaged.blob));
  });

  test("reads a user certificate's critical options and extensions in order, with their data", () => {
    const signed = lab.sign({
      ca: cas.ed25519,
      subject: subjects.ecdsa256,
      host: false,
      principals: ["alice", "bob"],
      options: ["force-command=/bin/true", "source-address=10.0.0.0/8", "no-pty"],
    });
    const cert = parseCertificate(signed.blob);
    assert.equal(cert.kind, "user");
    assertMatchesOracle(cert, signed.path);
    assert.deepEqual(cert.criticalOptions.map((c) => [c.name, c.data.toString("hex")]), [
      ["force-command", sshString("/bin/true").toString("hex")],
      ["source-address", sshString("10.0.0.0/8").toString("hex")],
    ]);
    assert.ok(cert.extensions.every((e) => e.data.length === 0));
    assert.ok(!cert.extensions.some((e) => e.name === "permit-pty"));
  });

  test("reads a certificate valid forever, without principals, serial 2^64-1", () => {
    const signed = lab.sign({ ca: cas.ed25519, subject: subjects.ed25519, validity: "always:forever", serial: 18446744073709551615n });
    const cert = parseCertificate(signed.blob);
    assert.equal(cert.validAfter, 0n);
    assert.equal(cert.validBefore, FOREVER);
    assert.deepEqual(cert.principals, []);
    assert.equal(cert.serial, 18446744073709551615n);
    assertMatchesOracle(cert, signed.path);
  });
});

describe("describeCertificate", () => {
  test("says key ID, serial, principals, validity in UTC and the CA's fingerprint and type", () => {
    const signed = lab.sign({
      ca: cas.ed25519,
      subject: subjects.ed25519,
      id: "web1",
      principals: ["web1.example.com", "web1"],
      validity: "20261201100000:20261202100000",
      serial: 7,
    });
    assert.equal(
      describeCertificate(parseCertificate(signed.blob)),
      `key ID "web1", serial 7, principals web1.example.com, web1, valid 2026-12-01T10:00:00Z to 2026-12-02T10:00:00Z, ` +
        `CA ${fingerprintOf(cas.ed25519.pub)} (ssh-ed25519)`,
    );
  });

  test('says "forever" and "no principals"', () => {
    const signed = lab.sign({ ca: cas.ecdsa384, subject: subjects.ed25519, id: "any", validity: "always:forever" });
    const text = describeCertificate(parseCertificate(signed.blob));
    assert.match(text, /^key ID "any", serial 0, no principals, valid forever, CA SHA256:\S+ \(ecdsa-sha2-nistp384\)$/);
  });

  test("says open-ended windows as 'from … on' and 'until …'", () => {
    const from = parseCertificate(lab.sign({ ca: cas.ed25519, subject: subjects.ed25519, principals: ["a"], validity: "20261201100000:forever" }).blob);
    assert.match(describeCertificate(from), /valid from 2026-12-01T10:00:00Z on,/);
    const until = parseCertificate(lab.sign({ ca: cas.ed25519, subject: subjects.ed25519, principals: ["a"], validity: "always:20261202100000" }).blob);
    assert.match(describeCertificate(until), /valid until 2026-12-02T10:00:00Z,/);
  });

  test("escapes control characters a CA put in the key ID or principals", () => {
    const signed = lab.sign({ ca: cas.ed25519, subject: subjects.ed25519, id: "evil\x1b[2J\x07", principals: ["a\x1b]0;x\x07b"] });
    const text = describeCertificate(parseCertificate(signed.blob));
    assert.ok(!/[\x00-\x1f\x7f]/.test(text), text);
    assert.match(text, /key ID "evil\\x1b\[2J\\x07"/);
  });
});

describe("certificate type names", () => {
  const cases: [string, string | undefined][] = [
    ["ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519"],
    ["ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256"],
    ["ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384"],
    ["ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521"],
    ["ssh-rsa-cert-v01@openssh.com", "ssh-rsa"],
    ["rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa"],
    ["rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa"],
    ["ssh-ed25519", undefined],
    ["rsa-sha2-512", undefined],
    ["toString", undefined],
  ];
  for (const [name, plain] of cases) {
    test(`${name} certifies ${plain ?? "nothing"}`, () => {
      assert.equal(certifiedKeyType(name), plain);
      assert.equal(isCertificateType(name), plain !== undefined);
    });
  }
});

describe("parseCertificate refuses malformed certificates", () => {
  const base = lab.sign({ ca: cas.ed25519, subject: subjects.ed25519, principals: ["web1.example.com"], validity: "-1h:+1d" }).blob;
  const rsaBase = lab.sign({ ca: cas.rsa, subject: subjects.rsa, principals: ["web1"] }).blob;
  const ecdsaBase = lab.sign({ ca: cas.ed25519, subject: subjects.ecdsa256, principals: ["web1"] }).blob;
  const fields = splitCertificate(base);
  const withType = (type: string) => joinCertificate(fields, { type: sshString(type) });
  const crafted = (replace: Record<string, Buffer>) => crafter.resign(base, replace);
  const caSplit = (caKey: Buffer) => joinCertificate(fields, { caKey: sshString(caKey) });
  const fakeKey = (type: string, ...parts: Buffer[]) => Buffer.concat([sshString(type), ...parts.map((p) => sshString(p))]);

  const cases: [string, () => Buffer, RegExp][] = [
    ["trailing bytes after the signature", () => Buffer.concat([base, Buffer.from([0])]), /trailing bytes after the signature/],
    ["a blob cut short by one byte", () => base.subarray(0, base.length - 1), /past the end|truncated/],
    ["a blob cut inside the fixed-width serial", () => base.subarray(0, fields.segments.slice(0, 3).reduce((n, s) => n + s.raw.length, 4)), /truncated uint64/],
    ["an empty blob", () => Buffer.alloc(0), /truncated/],
    ["a plain public key", () => subjects.ed25519.key.blob, /ssh-ed25519 is not a certificate type/],
    ["an unknown certificate type", () => withType("ssh-foo-cert-v01@openssh.com"), /ssh-foo-cert-v01@openssh.com is not supported/],
    ["a DSA certificate", () => withType("ssh-dss-cert-v01@openssh.com"), /ssh-dss-cert-v01@openssh.com is not supported/],
    ["the negotiation-only name rsa-sha2-512-cert as a blob type", () => joinCertificate(splitCertificate(rsaBase), { type: sshString("rsa-sha2-512-cert-v01@openssh.com") }), /not supported/],
    ["a non-empty reserved field", () => crafted({ reserved: sshString("x") }), /reserved field is not empty/],
    ["certificate kind 3", () => crafted({ kind: uint32(3) }), /unknown certificate kind 3/],
    ["certificate kind 0", () => crafted({ kind: uint32(0) }), /unknown certificate kind 0/],
    ["critical options out of order", () => crafted({ critical: optionList([["source-address", sshString("1.2.3.4")], ["force-command", sshString("ls")]]) }), /critical options are not in strictly increasing order/],
    ["a repeated extension", () => crafted({ extensions: optionList([["permit-pty", ""], ["permit-pty", ""]]) }), /extensions are not in strictly increasing order/],
    ["an option name without its data", () => crafted({ extensions: sshString(sshString("permit-pty")) }), /truncated|past the end/],
    ["an option name with a control character", () => crafted({ critical: optionList([["bad\nname", ""]]) }), /option name in the critical options is empty or not printable ASCII/],
    ["an empty extension name", () => crafted({ extensions: optionList([["", ""]]) }), /option name in the extensions is empty/],
    ["a principal with a NUL byte", () => crafted({ principals: principalList(["web1\0.evil"]) }), /principal contains a NUL byte/],
    ["a principal list with a dangling length", () => crafted({ principals: sshString(Buffer.from([0, 0, 0, 9, 0x61])) }), /past the end/],
    ["more than 256 principals", () => crafted({ principals: principalList(Array.from({ length: 257 }, (_, i) => `h${i}`)) }), /more than 256 principals/],
    ["a key ID that is not UTF-8", () => crafted({ keyId: sshString(Buffer.from([0x77, 0xff, 0xfe])) }), /key ID is not valid UTF-8/],
    ["an Ed25519 key of 31 bytes", () => crafted({ pk: sshString(Buffer.alloc(31, 1)) }), /Ed25519 key must be 32 bytes, found 31/],
    ["an ECDSA curve that does not match the type", () => crafter.resign(ecdsaBase, { curve: sshString("nistp384") }), /curve nistp384 does not match key type ecdsa-sha2-nistp256/],
    ["an ECDSA point of the wrong size", () => crafter.resign(ecdsaBase, { point: sshString(Buffer.alloc(64, 4)) }), /wrong size or form for nistp256/],
    ["a negative RSA exponent", () => crafter.resign(rsaBase, { e: sshString(Buffer.from([0x81])) }), /RSA exponent is negative/],
    ["an RSA exponent with a needless leading zero", () => crafter.resign(rsaBase, { e: sshString(Buffer.from([0, 1, 0, 1])) }), /not minimally encoded/],
    ["an RSA modulus of 512 bits", () => crafter.resign(rsaBase, { n: sshString(Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 0xff)])) }), /512 bits is too short/],
    ["a CA key that is itself a certificate", () => caSplit(base), /chained certificates are not supported/],
    ["a DSA CA key", () => caSplit(fakeKey("ssh-dss", Buffer.from([1]), Buffer.from([1]), Buffer.from([1]), Buffer.from([1]))), /CA key is not usable: key type ssh-dss is not supported/],
    ["a CA key with trailing bytes", () => caSplit(Buffer.concat([cas.ed25519.key.blob, Buffer.from([0])])), /CA key is not usable: the ssh-ed25519 key has trailing bytes/],
    ["an empty CA key", () => caSplit(Buffer.alloc(0)), /CA key is unreadable/],
    ["trailing bytes inside the signature", () => {
      const sig = fields.segments.at(-1)!.raw.subarray(4);
      return joinCertificate(fields, { signature: sshString(Buffer.concat([sig, Buffer.from([0])])) });
    }, /trailing bytes inside the signature/],
  ];
  for (const [name, make, reason] of cases) {
    test(`refuses ${name}`, () => {
      const blob = make();
      assert.throws(
        () => parseCertificate(blob),
        (error: unknown) => {
          assert.ok(error instanceof HostKeyError, `expected a HostKeyError, got ${String(error)}`);
          assert.equal(error.code, "malformed-certificate");
          assert.equal(error.exitCode, 3);
          assert.match(error.message, /^malformed SSH certificate: /);
          assert.match(error.message, reason);
          assert.ok(error.hint);
          return true;
        },
      );
    });
  }

  test("accepts the untouched certificate and a correctly re-signed one (the refusals above are not the crafting's fault)", () => {
    assert.equal(parseCertificate(base).principals[0], "web1.example.com");
    const resigned = parseCertificate(crafted({ extensions: optionList([["permit-X11-forwarding", ""], ["permit-pty", ""]]) }));
    assert.deepEqual(resigned.extensions.map((e) => e.name), ["permit-X11-forwarding", "permit-pty"]);
    assert.deepEqual(verifyCertificateSignature(resigned), { ok: true });
    assert.deepEqual(verifyCertificateSignature(parseCertificate(crafter.resign(rsaBase))), { ok: true });
  });
});
