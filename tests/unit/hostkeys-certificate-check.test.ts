// Deciding host certificates (every refusal with its reason, principal matching as OpenSSH
// matches host principals, validity edges, revocation) and checking user certificates.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkHostCertificate,
  checkUserCertificate,
  fingerprintSha256,
  parseCertificate,
  type HostCertificateCheck,
  type SourcedKey,
} from "../../src/core/hostkeys/index.ts";
import {
  CertificateLab,
  CraftingCa,
  at,
  joinCertificate,
  principalList,
  sourced,
  splitCertificate,
  sshString,
} from "./_certificate-fixtures.ts";

const lab = new CertificateLab();
after(() => lab.cleanup());

const ca = lab.key("ed25519", "host-ca");
const otherCa = lab.key("ecdsa256", "other-ca");
const rsaCa = lab.key("rsa", "rsa-ca");
const hostKey = lab.key("ed25519", "web1");
const crafter = new CraftingCa();

const HOST = "web1.example.com";
const trusted: SourcedKey = sourced(ca.key, "/etc/ssh/ssh_known_hosts:3");
const now = new Date();
const caFp = fingerprintSha256(ca.key.blob);

function check(blob: Buffer, overrides: Partial<{ hostname: string; now: Date; authorities: SourcedKey[]; revoked: SourcedKey[] }> = {}): HostCertificateCheck {
  return checkHostCertificate(blob, { hostname: HOST, now, authorities: [trusted], revoked: [], ...overrides });
}

function refusal(result: HostCertificateCheck): { failure: string; reason: string; hasCert: boolean } {
  assert.equal(result.ok, false, "expected a refusal");
  if (result.ok) throw new Error("unreachable");
  return { failure: result.failure, reason: result.reason, hasCert: result.cert !== undefined };
}

const good = lab.sign({ ca, subject: hostKey, id: "web1", principals: [HOST], validity: "-1h:+1d", serial: 7 }).blob;

describe("checkHostCertificate", () => {
  test("trusts a host certificate signed by a trusted CA, naming the host, inside its window", () => {
    const result = check(good);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.equal(result.authority, trusted);
    assert.equal(result.cert.keyId, "web1");
    assert.deepEqual(result.cert.key, hostKey.key);
  });

  test("trusts RSA and ECDSA CAs too, and finds the right CA among several", () => {
    for (const signer of [rsaCa, otherCa]) {
      const blob = lab.sign({ ca: signer, subject: hostKey, principals: [HOST] }).blob;
      const authority = sourced(signer.key, "inline");
      const result = check(blob, { authorities: [trusted, authority] });
      assert.equal(result.ok, true, signer.key.type);
      if (result.ok) assert.equal(result.authority, authority);
    }
  });

  const refusals: { name: string; blob: () => Buffer; ctx?: Parameters<typeof check>[1]; failure: string; reason: string | RegExp }[] = [
    {
      name: "a blob that is not a certificate",
      blob: () => Buffer.from("not a certificate"),
      failure: "malformed",
      reason: /^malformed SSH certificate: /,
    },
    {
      name: "a certificate from a CA no @cert-authority line trusts",
      blob: () => lab.sign({ ca: otherCa, subject: hostKey, principals: [HOST] }).blob,
      failure: "no-authority",
      reason: `signed by CA ${fingerprintSha256(otherCa.key.blob)} (ecdsa-sha2-nistp256), which no @cert-authority line trusts for ${HOST}`,
    },
    {
      name: "a certificate whose CA signature does not verify",
      blob: () => {
        const damaged = Buffer.from(good);
        damaged[damaged.length - 1]! ^= 0x01;
        return damaged;
      },
      failure: "bad-signature",
      reason: "the CA signature does not verify",
    },
    {
      name: "a signature whose algorithm does not suit the CA key",
      blob: () => {
        const fields = splitCertificate(good);
        const sig = fields.segments.at(-1)!.raw;
        const inner = sig.subarray(4);
        const algLength = inner.readUInt32BE(0);
        const rest = inner.subarray(4 + algLength);
        return joinCertificate(fields, { signature: sshString(Buffer.concat([sshString("ecdsa-sha2-nistp256"), rest])) });
      },
      failure: "bad-signature",
      reason: /^the CA signature does not verify \(signature algorithm ecdsa-sha2-nistp256 does not suit a ssh-ed25519 CA key\)$/,
    },
    {
      name: "a certificate signed with SHA-1 (ssh-rsa)",
      blob: () => lab.sign({ ca: rsaCa, subject: hostKey, principals: [HOST], algorithm: "ssh-rsa" }).blob,
      ctx: { authorities: [sourced(rsaCa.key, "inline")] },
      failure: "sha1-signature",
      reason: "signed with SHA-1 (ssh-rsa), which is never accepted",
    },
    {
      name: "a user certificate presented as a host certificate",
      blob: () => lab.sign({ ca, subject: hostKey, host: false, principals: [HOST] }).blob,
      failure: "not-host",
      reason: "it is a user certificate, not a host certificate",
    },
    {
      name: "a certificate not yet valid",
      blob: () => lab.sign({ ca, subject: hostKey, principals: [HOST], validity: "20261201100000:20261202100000" }).blob,
      ctx: { now: at(Date.parse("2026-12-01T09:59:59Z") / 1000) },
      failure: "not-yet-valid",
      reason: "not yet valid (valid from 2026-12-01T10:00:00Z)",
    },
    {
      name: "an expired certificate",
      blob: () => lab.sign({ ca, subject: hostKey, principals: [HOST], validity: "20261201100000:20261202100000" }).blob,
      ctx: { now: at(Date.parse("2026-12-03T00:00:00Z") / 1000) },
      failure: "expired",
      reason: "expired (valid until 2026-12-02T10:00:00Z)",
    },
    {
      name: "a certificate without principals (OpenSSH before 10.3 accepted it for any host)",
      blob: () => lab.sign({ ca, subject: hostKey }).blob,
      failure: "no-principals",
      reason: "it lists no principals (OpenSSH would accept it for any host; ssh2vsock refuses it)",
    },
    {
      name: "a certificate whose principals do not name the host",
      blob: () => lab.sign({ ca, subject: hostKey, principals: ["web2.example.com", "db.example.com"] }).blob,
      failure: "principal",
      reason: `its principals (web2.example.com, db.example.com) do not name ${HOST}`,
    },
    {
      name: "a host certificate with a critical option",
      blob: () => lab.sign({ ca, subject: hostKey, principals: [HOST], options: ["critical:verify-me@example.com=yes"] }).blob,
      failure: "critical-option",
      reason: "it carries critical option verify-me@example.com, which ssh2vsock does not know",
    },
    {
      name: "a certificate whose CA key is @revoked, although a @cert-authority line trusts it",
      blob: () => good,
      ctx: { revoked: [sourced(ca.key, "/home/u/.ssh/known_hosts:9")] },
      failure: "revoked-ca",
      reason: `its CA key ${caFp} is @revoked (/home/u/.ssh/known_hosts:9)`,
    },
    {
      name: "a certificate whose key is @revoked, although its CA is trusted",
      blob: () => good,
      ctx: { revoked: [sourced(hostKey.key, "guests.web1.known_hosts[1]")] },
      failure: "revoked-key",
      reason: `its key ${fingerprintSha256(hostKey.key.blob)} is @revoked (guests.web1.known_hosts[1])`,
    },
  ];

  for (const r of refusals) {
    test(`refuses ${r.name}: ${r.failure}`, () => {
      const result = refusal(check(r.blob(), r.ctx));
      assert.equal(result.failure, r.failure);
      if (typeof r.reason === "string") assert.equal(result.reason, r.reason);
      else assert.match(result.reason, r.reason);
      assert.equal(result.hasCert, r.failure !== "malformed", "the parsed certificate comes with every refusal but malformed");
    });
  }

  test("checks in the contract's order: revocation before trust, trust before signature, SHA-1 before validity", () => {
    const expiredSha1 = lab.sign({ ca: rsaCa, subject: hostKey, principals: ["other"], algorithm: "ssh-rsa", validity: "20200101000000:20200102000000" }).blob;
    assert.equal(refusal(check(expiredSha1, { authorities: [sourced(rsaCa.key, "x")] })).failure, "sha1-signature");
    assert.equal(refusal(check(expiredSha1)).failure, "no-authority");
    assert.equal(refusal(check(expiredSha1, { revoked: [sourced(hostKey.key, "x")] })).failure, "revoked-key");
    assert.equal(refusal(check(expiredSha1, { revoked: [sourced(hostKey.key, "x"), sourced(rsaCa.key, "y")] })).failure, "revoked-ca");
    const userExpired = lab.sign({ ca, subject: hostKey, host: false, validity: "20200101000000:20200102000000" }).blob;
    assert.equal(refusal(check(userExpired)).failure, "not-host");
    const expiredNoPrincipals = lab.sign({ ca, subject: hostKey, validity: "20200101000000:20200102000000" }).blob;
    assert.equal(refusal(check(expiredNoPrincipals)).failure, "expired");
    const wrongNameWithOption = lab.sign({ ca, subject: hostKey, principals: ["x"], options: ["critical:a@b=c"] }).blob;
    assert.equal(refusal(check(wrongNameWithOption)).failure, "principal");
  });

  test("ignores @revoked keys that are neither its CA nor its key", () => {
    const other = lab.key("ed25519", "unrelated");
    assert.equal(check(good, { revoked: [sourced(other.key, "x"), sourced(otherCa.key, "y")] }).ok, true);
  });

  test("refuses a certificate when no @cert-authority line matched the host at all", () => {
    assert.equal(refusal(check(good, { authorities: [] })).failure, "no-authority");
  });
});

describe("host certificate principals, matched as OpenSSH matches them", () => {
  const authority = sourced(crafter.key, "inline");
  const withPrincipals = (principals: string[]) => crafter.resign(good, { principals: principalList(principals) });
  const cases: [principals: string[], hostname: string, ok: boolean, why: string][] = [
    [["web1.example.com"], "web1.example.com", true, "an exact name"],
    [["web1.example.com"], "WEB1.Example.COM", true, "the host name lower-cased first, as ssh does"],
    [["WEB1.example.com"], "web1.example.com", false, "principals compared case-sensitively, as OpenSSH does"],
    [["*.example.com"], "web1.example.com", true, "a * wildcard"],
    [["*.example.com"], "a.b.example.com", true, "a * spanning dots"],
    [["*.example.com"], "example.com", false, "a * pattern does not drop its dot"],
    [["web?.example.com"], "web1.example.com", true, "a ? wildcard"],
    [["web?.example.com"], "web10.example.com", false, "a ? is exactly one character"],
    [["web1.example.com"], "web1.example.com.evil.net", false, "not a longer name"],
    [["web1.example.com"], "xweb1.example.com", false, "not a name with a prefix"],
    [["web1"], "web1.example.com", false, "not a shorter name"],
    [["db.example.com", "web1.example.com"], "web1.example.com", true, "any one of several principals"],
    [["*"], "web1.example.com", true, "a lone * (OpenSSH accepts it too)"],
  ];
  for (const [principals, hostname, ok, why] of cases) {
    test(`${ok ? "accepts" : "refuses"} principals [${principals.join(", ")}] for ${hostname}: ${why}`, () => {
      const result = check(withPrincipals(principals), { hostname, authorities: [authority] });
      if (ok) assert.equal(result.ok, true, result.ok ? "" : result.reason);
      else assert.equal(refusal(result).failure, "principal");
    });
  }

  test("refuses an empty principal list even for a host name a wildcard would match", () => {
    assert.equal(refusal(check(withPrincipals([]), { authorities: [authority] })).failure, "no-principals");
  });
});

describe("host certificate validity window", () => {
  const from = Date.parse("2026-12-01T10:00:00Z") / 1000;
  const to = Date.parse("2026-12-02T10:00:00Z") / 1000;
  const windowed = lab.sign({ ca, subject: hostKey, principals: [HOST], validity: "20261201100000:20261202100000" }).blob;
  const forever = lab.sign({ ca, subject: hostKey, principals: [HOST], validity: "always:forever" }).blob;
  const cases: [string, Buffer, Date, string | true][] = [
    ["one second before validAfter", windowed, at(from - 1), "not-yet-valid"],
    ["a millisecond before validAfter", windowed, new Date(from * 1000 - 1), "not-yet-valid"],
    ["exactly validAfter", windowed, at(from), true],
    ["the last millisecond before validBefore", windowed, new Date(to * 1000 - 1), true],
    ["exactly validBefore", windowed, at(to), "expired"],
    ["a forever certificate at the epoch", forever, at(0), true],
    ["a forever certificate in the year 9000", forever, new Date("9000-01-01T00:00:00Z"), true],
  ];
  for (const [name, blob, when, expected] of cases) {
    test(`${expected === true ? "accepts" : "refuses"} ${name}`, () => {
      const result = check(blob, { now: when });
      if (expected === true) assert.equal(result.ok, true, result.ok ? "" : result.reason);
      else assert.equal(refusal(result).failure, expected);
    });
  }
});

describe("checkUserCertificate", () => {
  const userKey = lab.key("ecdsa256", "alice");
  const userCert = lab.sign({ ca, subject: userKey, host: false, principals: ["alice"], validity: "20261201100000:20261202100000" });
  const inside = new Date("2026-12-01T12:00:00Z");

  test("finds nothing wrong with a user certificate for this key inside its window", () => {
    assert.deepEqual(checkUserCertificate(parseCertificate(userCert.blob), userKey.key, inside), []);
  });

  test("says a host certificate is not a user certificate", () => {
    assert.deepEqual(checkUserCertificate(parseCertificate(good), hostKey.key, now), ["it is a host certificate, not a user certificate"]);
  });

  test("says whose key the certificate certifies when it is not this private key's", () => {
    const problems = checkUserCertificate(parseCertificate(userCert.blob), hostKey.key, inside);
    assert.deepEqual(problems, [
      `it certifies key ${fingerprintSha256(userKey.key.blob)} (ecdsa-sha2-nistp256), not this private key's ${fingerprintSha256(hostKey.key.blob)} (ssh-ed25519)`,
    ]);
  });

  test("says when it expired or is not yet valid", () => {
    const cert = parseCertificate(userCert.blob);
    assert.deepEqual(checkUserCertificate(cert, userKey.key, new Date("2026-12-02T10:00:00Z")), ["expired (valid until 2026-12-02T10:00:00Z)"]);
    assert.deepEqual(checkUserCertificate(cert, userKey.key, new Date("2026-11-30T00:00:00Z")), ["not yet valid (valid from 2026-12-01T10:00:00Z)"]);
  });

  test("says when the CA signature does not verify, or is SHA-1", () => {
    const damaged = Buffer.from(userCert.blob);
    damaged[damaged.length - 5]! ^= 0x40;
    assert.deepEqual(checkUserCertificate(parseCertificate(damaged), userKey.key, inside), ["the CA signature does not verify"]);
    const sha1 = lab.sign({ ca: rsaCa, subject: userKey, host: false, principals: ["alice"], algorithm: "ssh-rsa" });
    assert.deepEqual(checkUserCertificate(parseCertificate(sha1.blob), userKey.key, inside), ["signed with SHA-1 (ssh-rsa), which is never accepted"]);
  });
});
