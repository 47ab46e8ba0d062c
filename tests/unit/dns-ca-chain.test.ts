import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DetailedPeerCertificate } from "node:tls";
import { chainReachesCa, loadCaFile } from "../../src/core/dns/_ca.ts";
import { HostKeyError } from "../../src/core/errors.ts";

/** A chain as node:tls presents it: each certificate links to the one that claims to issue it. */
function chain(...pems: string[]): DetailedPeerCertificate {
  const certs = pems.map((p) => ({ raw: new X509Certificate(p).raw }) as DetailedPeerCertificate);
  certs.forEach((c, i) => (c.issuerCertificate = certs[i + 1] ?? c));
  return certs[0]!;
}

describe("the resolver's chain must lead to a CA of ca_file", () => {
  const dir = mkdtempSync(join(tmpdir(), "ssh2vsock-dns-chain-"));
  const pem: Record<string, string> = {};
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

  before(() => {
    writeFileSync(join(dir, "ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n");
    writeFileSync(join(dir, "leaf.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n");
    for (const root of ["root", "other"]) {
      openssl("req", "-x509", ...ec, "-keyout", `${root}.key`, "-out", `${root}.pem`, "-days", "1", "-subj", `/CN=${root}`,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
    }
    const issue = (name: string, issuer: string, ext: string) => {
      openssl("req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`, "-CAcreateserial",
        "-days", "1", "-extfile", ext, "-out", `${name}.pem`);
    };
    issue("inter", "root", "ca.ext");
    issue("leaf", "root", "leaf.ext");
    issue("deep", "inter", "leaf.ext");
    issue("foreign", "other", "leaf.ext");
    issue("stray", "root", "ca.ext"); // a CA of ours that did not issue "foreign"
    for (const n of ["root", "other", "inter", "leaf", "deep", "foreign", "stray"]) pem[n] = readFileSync(join(dir, `${n}.pem`), "utf8");
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const root = () => [new X509Certificate(pem.root!)];
  it("accepts a leaf the CA issued", () => assert.equal(chainReachesCa(chain(pem.leaf!), root()), true));
  it("accepts a leaf issued through an intermediate the CA issued", () =>
    assert.equal(chainReachesCa(chain(pem.deep!, pem.inter!), root()), true));
  it("accepts the CA's own certificate", () => assert.equal(chainReachesCa(chain(pem.root!), root()), true));
  it("refuses a leaf of another CA", () => assert.equal(chainReachesCa(chain(pem.foreign!, pem.other!), root()), false));
  it("refuses a foreign leaf followed by an unrelated certificate our CA issued", () =>
    assert.equal(chainReachesCa(chain(pem.foreign!, pem.stray!), root()), false));
  it("refuses an intermediate-issued leaf when the intermediate is missing", () =>
    assert.equal(chainReachesCa(chain(pem.deep!), root()), false));

  it("loads every certificate of a bundle, and refuses a bundle with a broken one", () => {
    writeFileSync(join(dir, "bundle.pem"), `${pem.root}\n${pem.other}`);
    assert.equal(loadCaFile(join(dir, "bundle.pem")).certs.length, 2);
    writeFileSync(join(dir, "broken.pem"), `${pem.root}\n-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n`);
    assert.throws(() => loadCaFile(join(dir, "broken.pem")), (err: unknown) =>
      err instanceof HostKeyError && err.code === "dns-ca-file" && /certificate 2 cannot be read/.test(err.message));
  });
});
