// Host keys verified by DNSSEC-validated SSHFP alone, through the lab's real validating
// resolver (BIND behind Unbound), over TCP and DNS-over-TLS; and the generator commands.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type Lab } from "../lab/lab.ts";
import { startDnsLab, type DnsLab } from "../lab/dns.ts";
import { runCli, runCommand, startCli } from "./_cli.ts";
import { guestBlock, hypervisorBlock, readLog, sshThroughTunnel, writeConfig } from "./_fixtures.ts";

let lab: Lab;
let dns: DnsLab;
let hostsFile: string;

/** SHA-256 SSHFP records for a public key file, as ssh-keygen -r prints them. */
function sshfpOf(pubFile: string, type = 2): { algorithm: number; type: number; hex: string } {
  const [kt, b64] = readFileSync(pubFile, "utf8").trim().split(/\s+/);
  const algorithm = kt === "ssh-rsa" ? 1 : kt.startsWith("ecdsa") ? 3 : 4;
  const hex = createHash(type === 2 ? "sha256" : "sha1").update(Buffer.from(b64, "base64")).digest("hex");
  return { algorithm, type, hex };
}

before(async () => {
  lab = await startLab({ guests: 1 });
  const g1 = lab.guests[0].hostKeyPubFiles;
  const hv = lab.hypervisor.hostKeyPubFiles;
  dns = await startDnsLab({
    records: [
      { name: "g1", zone: "signed", sshfp: Object.values(g1).map((f) => sshfpOf(f)) },
      { name: "hv", zone: "signed", sshfp: Object.values(hv).map((f) => sshfpOf(f)) },
      { name: "g1", zone: "unsigned", sshfp: Object.values(g1).map((f) => sshfpOf(f)) },
      { name: "wrong", zone: "signed", sshfp: [{ algorithm: 4, type: 2, hex: "ab".repeat(32) }] },
      { name: "sha1only", zone: "signed", sshfp: Object.values(g1).map((f) => sshfpOf(f, 1)) },
      { name: "ecdsaonly", zone: "signed", sshfp: [sshfpOf(g1.ecdsa)] },
    ],
  });
  // The hypervisor must be reached by a DNS name for SSHFP: give only the tested process a
  // private /etc/hosts (a private mount namespace), never the machine's.
  hostsFile = join(lab.dir, "hosts");
  writeFileSync(hostsFile, readFileSync("/etc/hosts", "utf8") + `\n127.0.0.1 ${dns.fqdn("hv", "signed")}\n`);
});
after(async () => {
  await dns?.stop();
  await lab?.stop();
});

const withHosts = () => ["unshare", "-m", "sh", "-c", `mount --bind '${hostsFile}' /etc/hosts && exec "$@"`, "sh"];

function sshfpGuestConfig(name: string, hostname: string, resolver: string, extra: Record<string, string> = {}): string {
  return writeConfig(
    lab,
    name,
    hypervisorBlock(lab) +
      guestBlock(lab, "g1", {
        hostname: JSON.stringify(hostname),
        known_hosts_file: "",
        use_sshfp: "true",
        dns_resolver: JSON.stringify(resolver),
        ...extra,
      }),
  );
}

async function tunnelRunsCommand(config: string, wrap?: string[]): Promise<void> {
  const cli = startCli(["tunnel", "-c", config, "g1"], { wrap });
  try {
    const [line] = await cli.lines(1);
    const port = Number(line.split(":").at(-1));
    const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, "g1"), "ip netns identify"]);
    assert.equal(r.stdout.trim(), lab.guests[0].netns, r.stderr);
  } finally {
    await cli.stop();
  }
}

describe("SSHFP verification of a tunnel", () => {
  test("a guest verified by SSHFP alone over TCP is reached", async () => {
    await tunnelRunsCommand(sshfpGuestConfig("sshfp-tcp", dns.fqdn("g1", "signed"), dns.resolverTcp));
  });

  test("a guest verified by SSHFP alone over DNS-over-TLS is reached", async () => {
    await tunnelRunsCommand(
      sshfpGuestConfig("sshfp-tls", dns.fqdn("g1", "signed"), dns.resolverTls, { ca_file: JSON.stringify(dns.caFile) }),
    );
  });

  test("a hypervisor verified by SSHFP alone is reached", async () => {
    const config = writeConfig(
      lab,
      "sshfp-hv",
      hypervisorBlock(lab, {
        hostname: JSON.stringify(dns.fqdn("hv", "signed")),
        known_hosts_file: "",
        use_sshfp: "true",
        dns_resolver: JSON.stringify(dns.resolverTls),
        ca_file: JSON.stringify(dns.caFile),
      }) + guestBlock(lab, "g1"),
    );
    await tunnelRunsCommand(config, withHosts());
  });

  test("records from the unsigned zone are refused as not DNSSEC-validated", async () => {
    const r = await runCli(["tunnel", "-c", sshfpGuestConfig("sshfp-unsigned", dns.fqdn("g1", "unsigned"), dns.resolverTcp), "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /not DNSSEC-validated/);
  });

  test("a record whose fingerprint does not match the presented key is refused", async () => {
    const r = await runCli(["tunnel", "-c", sshfpGuestConfig("sshfp-wrong", dns.fqdn("wrong", "signed"), dns.resolverTcp), "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /SHA256:[A-Za-z0-9+/]{43}/);
  });

  test("a SHA-1-only record set is refused", async () => {
    const r = await runCli(["tunnel", "-c", sshfpGuestConfig("sshfp-sha1", dns.fqdn("sha1only", "signed"), dns.resolverTcp), "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /SHA-1/);
  });

  test("an ECDSA record admits the ECDSA curves only", async () => {
    const before = readLog(lab.guests[0].sshdLog).length;
    const cfg = sshfpGuestConfig("sshfp-ecdsa", dns.fqdn("ecdsaonly", "signed"), dns.resolverTcp);
    const cli = startCli(["tunnel", "-c", cfg, "-vv", "g1"]);
    try {
      await cli.lines(1);
    } finally {
      await cli.stop();
    }
    const log = readLog(lab.guests[0].sshdLog).slice(before);
    assert.match(log, /kex: host key algorithm: ecdsa-sha2-nistp256/);
    assert.match(cli.stderr(), /offering ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521\b/);
  });

  test("DNS-over-TLS with a ca_file that did not sign the resolver's certificate fails with a certificate error", async () => {
    const cfg = sshfpGuestConfig("sshfp-wrongca", dns.fqdn("g1", "signed"), dns.resolverTls, { ca_file: JSON.stringify(dns.wrongCaFile) });
    const r = await runCli(["tunnel", "-c", cfg, "g1"]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /certificate/i);
  });
});

describe("generators and keyscan", () => {
  test("sshfp output equals ssh-keygen -r's SHA-256 lines for ed25519, ECDSA and RSA keys", async () => {
    for (const pub of Object.values(lab.guests[0].hostKeyPubFiles)) {
      const ours = await runCli(["sshfp", "g1.example.com", pub]);
      const theirs = await runCommand("ssh-keygen", ["-r", "g1.example.com", "-f", pub]);
      const sha256Lines = theirs.stdout.split("\n").filter((l) => / SSHFP \d 2 /.test(l));
      assert.equal(ours.code, 0, ours.stderr);
      assert.deepEqual(ours.stdout.trim().split("\n"), sha256Lines);
    }
    const json = await runCli(["sshfp", "g1.example.com", "--json"], { input: readFileSync(lab.guests[0].hostKeyPubFiles.ed25519) });
    const [rec] = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(rec), ["algorithm", "fingerprint_type", "fingerprint"]);
    assert.equal(rec.algorithm, 4);
  });

  test("ssh-keygen -F finds every entry known-hosts --hash wrote, with and without a port", async () => {
    const pubs = Object.values(lab.guests[0].hostKeyPubFiles);
    for (const port of [22, 2222]) {
      const r = await runCli(["known-hosts", "web1.example.com", "--hash", "--port", String(port), ...pubs]);
      assert.equal(r.code, 0, r.stderr);
      const file = join(lab.dir, `kh-${port}`);
      writeFileSync(file, r.stdout);
      const name = port === 22 ? "web1.example.com" : `[web1.example.com]:${port}`;
      const found = await runCommand("ssh-keygen", ["-F", name, "-f", file]);
      assert.equal(found.stdout.split("\n").filter((l) => l.startsWith("|1|")).length, pubs.length, found.stdout);
      assert.doesNotMatch(r.stdout, /web1\.example\.com/);
    }
  });

  test("keyscan output, written to a file, lets tunnel verify the guest", async () => {
    const scanned = await runCli(["keyscan", "-c", lab.configFile, "--hash", "g1"]);
    assert.equal(scanned.code, 0, scanned.stderr);
    assert.equal(scanned.stdout.trim().split("\n").length, 3, scanned.stdout);
    const file = join(lab.dir, "scanned_known_hosts");
    writeFileSync(file, scanned.stdout);
    const found = await runCommand("ssh-keygen", ["-F", "g1.lab.test", "-f", file]);
    assert.equal(found.code, 0);
    const cfg = writeConfig(lab, "keyscanned", hypervisorBlock(lab) + guestBlock(lab, "g1", { known_hosts_file: JSON.stringify(file) }));
    await tunnelRunsCommand(cfg);
  });
});
