// SSHFP lookups against the real lab DNS: BIND serving a DNSSEC-signed and an unsigned zone,
// behind a validating Unbound over TCP and DNS-over-TLS. Keys and fingerprints come from ssh-keygen.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostKeyError } from "../../src/core/errors.ts";
import { querySshfp, sshfpTrust } from "../../src/core/dns/index.ts";
import { startDnsLab, type DnsLab } from "../lab/dns.ts";

interface LabKey {
  /** SHA-256 over the public key blob, computed here. */
  sha256: Buffer;
  /** `ssh-keygen -r` records: algorithm, fingerprint type, hex. */
  records: { algorithm: number; type: number; hex: string }[];
}

/** Generates a key with ssh-keygen and reads its SSHFP records back from `ssh-keygen -r`. */
function sshKey(dir: string, type: "ed25519" | "ecdsa"): LabKey {
  const path = join(dir, `key_${type}`);
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "", "-f", path]);
  const blob = Buffer.from(readFileSync(`${path}.pub`, "utf8").split(" ")[1]!, "base64");
  const records = execFileSync("ssh-keygen", ["-r", "host", "-f", `${path}.pub`], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => {
      const [, , , algorithm, fpType, hex] = line.split(/\s+/);
      return { algorithm: Number(algorithm), type: Number(fpType), hex: hex! };
    });
  return { sha256: createHash("sha256").update(blob).digest(), records };
}

function hostKeyError(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof HostKeyError, `expected HostKeyError, got ${String(err)}`);
    assert.equal(err.exitCode, 3);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.ok(err.hint);
    return true;
  };
}

describe("SSHFP through the lab's validating resolver", () => {
  let lab: DnsLab;
  let ed: LabKey;
  let ec: LabKey;
  const keyDir = mkdtempSync(join(tmpdir(), "ssh2vsock-dns-keys-"));
  // A fingerprint type no one has defined yet, with a 48-byte digest.
  const future = { algorithm: 3, type: 3, hex: "5a".repeat(48) };

  before(async () => {
    ed = sshKey(keyDir, "ed25519");
    ec = sshKey(keyDir, "ecdsa");
    lab = await startDnsLab({
      records: [
        { name: "web1", zone: "signed", sshfp: ed.records },
        { name: "sha1only", zone: "signed", sshfp: [...ed.records, ...ec.records].filter((r) => r.type === 1) },
        { name: "future", zone: "signed", sshfp: [future, ...ec.records.filter((r) => r.type === 2)] },
        { name: "tampered", zone: "signed", sshfp: ed.records, bogus: true },
        { name: "web1", zone: "unsigned", sshfp: ed.records },
      ],
    });
  });

  after(async () => {
    await lab?.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it("ssh-keygen -r's SHA-256 records are the key blobs' SHA-256", () => {
    assert.equal(ed.records.find((r) => r.type === 2)!.hex, ed.sha256.toString("hex"));
    assert.equal(ec.records.find((r) => r.type === 2)!.hex, ec.sha256.toString("hex"));
  });

  it("trusts the SHA-256 record of a signed zone over TCP and skips its SHA-1 record", async () => {
    const name = lab.fqdn("web1", "signed");
    const trust = await sshfpTrust(name, lab.resolverTcp);
    assert.deepEqual(trust.fingerprints, [
      { algorithm: 4, sha256: ed.sha256, source: `SSHFP ${name} via ${lab.resolverTcp} (DNSSEC)` },
    ]);
    assert.equal(trust.warnings.length, 1);
    assert.match(trust.warnings[0]!, /ignored record 4 1 \(Ed25519\): SHA-1/);
  });

  it("trusts the same record over DNS-over-TLS, checking the resolver's IP in its certificate", async () => {
    const name = lab.fqdn("web1", "signed");
    const trust = await sshfpTrust(name, lab.resolverTls, { caFile: lab.caFile });
    assert.deepEqual(trust.fingerprints, [
      { algorithm: 4, sha256: ed.sha256, source: `SSHFP ${name} via ${lab.resolverTls} over TLS (DNSSEC)` },
    ]);
  });

  it("checks dns_tls_name instead of the IP when given", async () => {
    const trust = await sshfpTrust(lab.fqdn("web1", "signed"), lab.resolverTls, { caFile: lab.caFile, tlsName: lab.tlsName });
    assert.equal(trust.fingerprints.length, 1);
    // An IP address as dns_tls_name is matched against the IP SANs (127.0.0.1 only).
    await assert.rejects(
      sshfpTrust(lab.fqdn("web1", "signed"), lab.resolverTls, { caFile: lab.caFile, tlsName: "127.0.0.2" }),
      hostKeyError("dns-tls-certificate", /is not valid for 127.0.0.2/),
    );
    await assert.rejects(
      sshfpTrust(lab.fqdn("web1", "signed"), lab.resolverTls, { caFile: lab.caFile, tlsName: "other.lab.test" }),
      hostKeyError("dns-tls-certificate", new RegExp(`certificate of DNS resolver ${lab.resolverTls} is not valid for other.lab.test`)),
    );
  });

  it("refuses a resolver certificate not signed by a CA in ca_file", async () => {
    await assert.rejects(
      sshfpTrust(lab.fqdn("web1", "signed"), lab.resolverTls, { caFile: lab.wrongCaFile }),
      hostKeyError(
        "dns-tls-certificate",
        new RegExp(`^certificate of DNS resolver ${lab.resolverTls} not signed by a CA in ${lab.wrongCaFile}: `),
      ),
    );
  });

  it("refuses records of the unsigned zone as not DNSSEC-validated", async () => {
    await assert.rejects(
      sshfpTrust(lab.fqdn("web1", "unsigned"), lab.resolverTcp),
      hostKeyError("dns-not-validated", /was not DNSSEC-validated \(AD bit not set\)/),
    );
  });

  it("refuses signed records from a server that does not validate them (no AD)", async () => {
    await assert.rejects(
      querySshfp(lab.fqdn("web1", "signed"), lab.authoritative),
      hostKeyError("dns-not-validated", /not DNSSEC-validated/),
    );
  });

  it("fails on records whose DNSSEC signature does not match (the resolver answers SERVFAIL)", async () => {
    await assert.rejects(
      sshfpTrust(lab.fqdn("tampered", "signed"), lab.resolverTcp),
      hostKeyError("dns-rcode", /answered SERVFAIL for SSHFP tampered.signed.lab.test/),
    );
  });

  it("refuses a set of SHA-1 fingerprints only", async () => {
    await assert.rejects(
      sshfpTrust(lab.fqdn("sha1only", "signed"), lab.resolverTcp),
      hostKeyError("sshfp-unusable", /^SSHFP for sha1only.signed.lab.test has only SHA-1 fingerprints; ssh2vsock trusts SHA-256 \(type 2\) only$/),
    );
  });

  it("keeps the algorithm-3 SHA-256 record beside a record of unknown fingerprint type 3", async () => {
    const answer = await querySshfp(lab.fqdn("future", "signed"), lab.resolverTcp);
    assert.deepEqual(
      answer.records.map((r) => [r.algorithm, r.fingerprintType, r.fingerprint.toString("hex")]).sort(),
      [[3, 2, ec.sha256.toString("hex")], [3, 3, future.hex]].sort(),
    );
    const trust = await sshfpTrust(lab.fqdn("future", "signed"), lab.resolverTls, { caFile: lab.caFile });
    assert.deepEqual(trust.fingerprints.map((f) => [f.algorithm, f.sha256]), [[3, ec.sha256]]);
    assert.match(trust.warnings.join("\n"), /unknown fingerprint type 3/);
  });

  it("reports a validated name without SSHFP records, and a name that does not exist", async () => {
    await assert.rejects(
      sshfpTrust(`ns.${lab.signedZone}`, lab.resolverTcp),
      hostKeyError("sshfp-none", /^no SSHFP records for ns.signed.lab.test/),
    );
    await assert.rejects(
      sshfpTrust(lab.fqdn("missing", "signed"), lab.resolverTcp),
      hostKeyError("dns-rcode", /answered NXDOMAIN/),
    );
  });

  it("never leaves the lab: names outside lab.test are refused by the resolver", async () => {
    await assert.rejects(querySshfp("example.com", lab.resolverTcp), hostKeyError("dns-rcode", /answered REFUSED/));
  });
});
