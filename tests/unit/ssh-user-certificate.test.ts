// User certificates: which file is offered (ssh_certificate, automatic KEY-cert.pub), which are
// refused before connecting, the exact algorithm names and signature of a certificate login
// (never SHA-1), and the hint a refused certificate leaves.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "../../src/core/ssh/ssh2.ts";
import type { ParsedKey } from "ssh2";
import {
  certificateAlgorithm,
  certificateKey,
  certificateRequestPayload,
  certificateSignedData,
  isCertificateKey,
} from "../../src/core/ssh/_ssh2-certificate-auth.ts";
import { loadUserCertificate, parseCertificateText, userCertificateHint } from "../../src/core/ssh/user-certificate.ts";
import { authOptions } from "../../src/core/ssh/auth.ts";
import { agentKeys, parseIdentitiesAnswer } from "../../src/core/ssh/certificate-agent.ts";
import { translateSshError } from "../../src/core/ssh/translate-error.ts";
import { AuthError } from "../../src/core/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "s2v-ucert-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const keygen = (...args: string[]) => execFileSync("ssh-keygen", ["-q", ...args], { stdio: ["ignore", "pipe", "pipe"] });
const ca = join(dir, "ca");
keygen("-t", "ed25519", "-N", "", "-f", ca);
/** A key pair of `type`, and a certificate for it signed by the CA (extra ssh-keygen -s options in `sign`). */
function keyWithCert(name: string, type: string, sign: string[] = ["-n", "root", "-V", "-5m:+1h"]): string {
  const key = join(dir, name);
  keygen("-t", type, "-N", "", "-f", key);
  keygen("-s", ca, "-I", `id-${name}`, ...sign, `${key}.pub`);
  return key;
}
const ed = keyWithCert("ed", "ed25519");
const ecdsa = keyWithCert("ecdsa", "ecdsa");
const rsa = keyWithCert("rsa", "rsa");
const expired = keyWithCert("expired", "ed25519", ["-n", "root,admin", "-V", "20200101:20200102"]);
const hostCert = keyWithCert("host", "ed25519", ["-h", "-n", "hv1.example.com", "-V", "-5m:+1h"]);
const bare = join(dir, "bare");
keygen("-t", "ed25519", "-N", "", "-f", bare);

const read = (p: string) => readFileSync(p);
const parsedKey = (file: string) => ssh2.utils.parseKey(read(file)) as ParsedKey;
const certOf = (key: string) => parseCertificateText(readFileSync(`${key}-cert.pub`, "utf8"));
const base = { useAgent: false, origin: "hypervisor" };

/** Splits an SSH wire buffer into its fields: byte, bool, string (as Buffer). */
function fields(buf: Buffer, layout: ("byte" | "string")[]): (number | Buffer)[] {
  let p = 0;
  return layout.map((f) => {
    if (f === "byte") return buf[p++]!;
    const n = buf.readUInt32BE(p);
    const s = buf.subarray(p + 4, p + 4 + n);
    p += 4 + n;
    return s;
  });
}

describe("certificate algorithms", () => {
  test("ed25519 and ECDSA certificates keep their type and sign under the plain name", () => {
    assert.deepEqual(certificateAlgorithm("ssh-ed25519-cert-v01@openssh.com", undefined), {
      request: "ssh-ed25519-cert-v01@openssh.com",
      signature: "ssh-ed25519",
    });
    assert.deepEqual(certificateAlgorithm("ecdsa-sha2-nistp384-cert-v01@openssh.com", ["rsa-sha2-512"]), {
      request: "ecdsa-sha2-nistp384-cert-v01@openssh.com",
      signature: "ecdsa-sha2-nistp384",
    });
  });

  test("an RSA certificate signs with rsa-sha2-512, or rsa-sha2-256 when the server lists only that, never SHA-1", () => {
    const cases: [string[] | undefined, string][] = [
      [undefined, "rsa-sha2-512"],
      [["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"], "rsa-sha2-512"],
      [["rsa-sha2-256"], "rsa-sha2-256"],
      [["ssh-rsa"], "rsa-sha2-512"],
    ];
    for (const [serverSigAlgs, sig] of cases) {
      const a = certificateAlgorithm("ssh-rsa-cert-v01@openssh.com", serverSigAlgs);
      assert.equal(a.request, `${sig}-cert-v01@openssh.com`, String(serverSigAlgs));
      assert.equal(a.signature, sig);
      assert.equal(a.hash, sig === "rsa-sha2-256" ? "sha256" : "sha512");
      assert.ok(!a.request.startsWith("ssh-rsa"));
    }
  });
});

describe("the certificate login request", () => {
  const sessionId = Buffer.from("0123456789abcdef0123456789abcdef");
  for (const [name, file] of [["ed25519", ed], ["ECDSA", ecdsa], ["RSA", rsa]] as const) {
    test(`an ${name} certificate request names the certificate algorithm and carries the certificate, its signature named after the plain algorithm`, () => {
      const cert = certOf(file);
      const algorithm = certificateAlgorithm(cert.type, ["rsa-sha2-512", "rsa-sha2-256"]);
      const data = certificateSignedData(sessionId, "root", algorithm, cert.blob);
      const patched = certificateRequestPayload("root", algorithm, cert.blob, Buffer.alloc(1));
      const [msg, user, service, method, signed, alg, blob] = fields(patched, ["byte", "string", "string", "string", "byte", "string", "string"]);
      assert.deepEqual([msg, String(user), String(service), String(method), signed], [50, "root", "ssh-connection", "publickey", 1]);
      assert.equal(String(alg), algorithm.request);
      assert.ok((blob as Buffer).equals(cert.blob));
      // The signed data is the session id, then the signed request up to the certificate blob.
      assert.ok(data.subarray(4 + sessionId.length).equals(patched.subarray(0, data.length - 4 - sessionId.length)));

      // Signing itself is the crypto library's job (and sshd's verdict is the e2e test's); here: the framing.
      const raw = Buffer.from("signature bytes");
      const full = certificateRequestPayload("root", algorithm, cert.blob, raw);
      const sigBlob = fields(full, ["byte", "string", "string", "string", "byte", "string", "string", "string"])[7] as Buffer;
      const [sigName, sigBytes] = fields(sigBlob, ["string", "string"]);
      assert.equal(String(sigName), algorithm.signature);
      assert.ok(!String(sigName).includes("cert"));
      assert.ok((sigBytes as Buffer).equals(raw));
    });
  }

  test("the query (no signature) has the flag FALSE and nothing after the certificate", () => {
    const cert = certOf(ed);
    const algorithm = certificateAlgorithm(cert.type, undefined);
    const query = certificateRequestPayload("root", algorithm, cert.blob);
    const parts = fields(query, ["byte", "string", "string", "string", "byte", "string", "string"]);
    assert.equal(parts[4], 0);
    const used = 1 + (4 + 4) + (4 + 14) + (4 + 9) + 1 + (4 + algorithm.request.length) + (4 + cert.blob.length);
    assert.equal(query.length, used);
  });

  test("a certificate key passes for a parsed ssh2 key, keeps the plain type and is recognised", () => {
    const cert = certOf(rsa);
    const key = certificateKey(parsedKey(rsa), cert.blob, cert.type);
    assert.equal(ssh2.utils.parseKey(key as unknown as Buffer), key, "ssh2 passes a parsed key through");
    assert.equal(key.type, "ssh-rsa");
    assert.ok(key.isPrivateKey());
    assert.ok(isCertificateKey(key));
    assert.ok(!isCertificateKey(parsedKey(rsa)));
  });
});

describe("which certificate is offered", () => {
  test("ssh_certificate names the certificate, and KEY-cert.pub beside the key is used when unset", () => {
    const explicit = loadUserCertificate({ ...base, privateKeyFile: ed, certificateFile: `${ed}-cert.pub` }, parsedKey(ed).getPublicSSH(), read, "hv");
    assert.equal(explicit?.explicit, true);
    const automatic = loadUserCertificate({ ...base, privateKeyFile: ecdsa }, parsedKey(ecdsa).getPublicSSH(), read, "hv");
    assert.equal(automatic?.explicit, false);
    assert.equal(automatic?.path, `${ecdsa}-cert.pub`);
    assert.equal(automatic?.cert.keyId, "id-ecdsa");
  });

  test("no KEY-cert.pub beside the key is no certificate", () => {
    assert.equal(loadUserCertificate({ ...base, privateKeyFile: bare }, parsedKey(bare).getPublicSSH(), read, "hv"), undefined);
  });

  test("a named certificate that is missing, a host certificate, or for another key is an AuthError naming the file", () => {
    const cases: [string, RegExp][] = [
      [join(dir, "none-cert.pub"), /cannot read it: no such file or directory/],
      [`${hostCert}-cert.pub`, /host certificate, not a user certificate/],
      [`${rsa}-cert.pub`, /certifies another key/],
    ];
    for (const [certificateFile, why] of cases) {
      assert.throws(
        () => loadUserCertificate({ ...base, privateKeyFile: ed, certificateFile }, parsedKey(ed).getPublicSSH(), read, "hypervisor hv1"),
        (e: unknown) => e instanceof AuthError && e.exitCode === 4 && why.test(e.message) && e.message.includes(certificateFile) && /ssh_certificate/.test(e.hint ?? ""),
      );
    }
  });

  test("an automatic KEY-cert.pub for another key is skipped, as OpenSSH skips it", () => {
    const other = (p: string) => (p === `${bare}-cert.pub` ? read(`${ed}-cert.pub`) : read(p));
    assert.equal(loadUserCertificate({ ...base, privateKeyFile: bare }, parsedKey(bare).getPublicSSH(), other, "hv"), undefined);
  });

  test("a key with a certificate offers the certificate first, then the plain key, then a default agent", () => {
    const o = authOptions({ ...base, privateKeyFile: ed }, read, "hv", "root");
    const methods = o.authHandler as { type: string; username: string; key?: unknown }[];
    assert.deepEqual(methods.map((m) => m.type), ["publickey", "publickey"]);
    assert.ok(isCertificateKey(methods[0]!.key));
    assert.ok(Buffer.isBuffer(methods[1]!.key));
    assert.deepEqual(methods.map((m) => m.username), ["root", "root"]);
    assert.equal(o.userCertificate?.path, `${ed}-cert.pub`);
    const withAgent = authOptions({ ...base, useAgent: true, agentSock: "/a", privateKeyFile: ed }, read, "hv", "root");
    assert.deepEqual((withAgent.authHandler as { type: string }[]).map((m) => m.type), ["publickey", "publickey", "agent"]);
  });

  test("a key without a certificate keeps ssh2's plain method list", () => {
    assert.deepEqual(authOptions({ ...base, privateKeyFile: bare }, read, "hv", "root").authHandler, ["publickey"]);
  });
});

describe("a certificate the server refuses", () => {
  test("is exit 4 with the certificate's validity and principals in the hint, and says it has expired", () => {
    const uc = loadUserCertificate({ ...base, privateKeyFile: expired }, parsedKey(expired).getPublicSSH(), read, "hv")!;
    const err = translateSshError(
      Object.assign(new Error("All configured authentication methods failed"), { level: "client-authentication" }),
      { label: "hypervisor root@hv1:22", ours: [], userCertificate: uc },
      false,
    );
    assert.ok(err instanceof AuthError);
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /user certificate .*expired-cert\.pub refused/);
    assert.match(err.hint ?? "", /key ID "id-expired"/);
    assert.match(err.hint ?? "", /root, ?admin/);
    assert.match(err.hint ?? "", /2020-01-0\d/);
    assert.match(err.hint ?? "", /expired \(valid until/);
    assert.equal(userCertificateHint(uc, new Date("2020-01-01T12:00:00Z")).includes("expired (valid until"), false);
  });
});

describe("certificates the agent holds", () => {
  const str = (b: Buffer | string) => {
    const body = Buffer.from(b);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  };
  const answer = (blobs: Buffer[]) => {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(blobs.length);
    return Buffer.concat([Buffer.from([12]), count, ...blobs.map((b, i) => Buffer.concat([str(b), str(`comment ${i}`)]))]);
  };
  const plainBlob = (key: string) => Buffer.from(readFileSync(`${key}.pub`, "utf8").split(" ")[1]!, "base64");

  test("an identity list is read blob by blob, and a short or foreign answer is an error", () => {
    const ids = parseIdentitiesAnswer(answer([plainBlob(ed), certOf(ed).blob]));
    assert.deepEqual(ids.map((i) => i.comment), ["comment 0", "comment 1"]);
    assert.ok(ids[1]!.blob.equals(certOf(ed).blob));
    assert.throws(() => parseIdentitiesAnswer(answer([plainBlob(ed)]).subarray(0, 20)), /cut short/);
    assert.throws(() => parseIdentitiesAnswer(Buffer.from([5])), /not an identity list/);
  });

  test("user certificates become certificate keys in agent order; host certificates and unknown types are left out", () => {
    const junk = Buffer.concat([str("ssh-unknown"), str("x")]);
    const keys = agentKeys(parseIdentitiesAnswer(answer([plainBlob(rsa), certOf(rsa).blob, certOf(hostCert).blob, junk])));
    assert.equal(keys.length, 2);
    assert.ok(!isCertificateKey(keys[0]) && keys[0]!.getPublicSSH().equals(plainBlob(rsa)));
    assert.ok(isCertificateKey(keys[1]));
    assert.ok(keys[1]!.getPublicSSH().equals(plainBlob(rsa)), "the agent is asked to sign with the certified plain key");
  });

  test("a certificate file offered with the agent comes first, and the same certificate from the agent is not offered twice", () => {
    const keys = agentKeys(parseIdentitiesAnswer(answer([plainBlob(ed), certOf(ed).blob])), certOf(ed));
    assert.equal(keys.length, 2);
    assert.ok(isCertificateKey(keys[0]));
    assert.ok(!isCertificateKey(keys[1]));
  });

  test("ssh_certificate with the agent offers the file through the agent, and refuses a host certificate", () => {
    const o = authOptions({ ...base, useAgent: true, agentSock: "/run/agent", certificateFile: `${ed}-cert.pub` }, read, "hv", "root");
    assert.deepEqual(o.authHandler, ["agent"]);
    assert.equal(o.userCertificate?.cert.keyId, "id-ed");
    assert.throws(
      () => authOptions({ ...base, useAgent: true, agentSock: "/run/agent", certificateFile: `${hostCert}-cert.pub` }, read, "hv", "root"),
      /host certificate, not a user certificate/,
    );
  });
});
