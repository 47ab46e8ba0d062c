// Seeded fuzzing of known_hosts parsing, selection and verification: damaged real files never
// throw, and no host is ever trusted with a key that no line of the file lists for it.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import {
  anchorsFromKnownHosts,
  entryMatchesHost,
  knownHostsName,
  parseKnownHosts,
  publicKeyText,
  verifyHostKey,
  type ParsedKnownHosts,
  type PublicKey,
} from "../../src/core/hostkeys/index.ts";
import { generateTestKeys } from "./hostkeys-fixtures.ts";
import { FUZZ_SEED, fuzz, mutateTextTimes, type Rand } from "./_fuzz.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());
// A DSA key may be listed but must never be trusted. Built by hand (p, q, g, y as SSH strings):
// OpenSSH 10 no longer generates DSA keys.
const sshString = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 0xff, b.length & 0xff]), b]);
const dsaBlob = Buffer.concat([Buffer.from("ssh-dss"), ...[128, 20, 128, 128].map((n) => randomBytes(n))].map(sshString));
const dsa: PublicKey = { type: "ssh-dss", blob: dsaBlob };
const dsaText = `ssh-dss ${dsaBlob.toString("base64")}`;

const listed: PublicKey[] = [keys.ed25519.key, keys.ecdsa256.key, keys.ecdsa384.key, keys.rsa.key, dsa];
// Never written into any input: it must never be trusted (nor called revoked).
const stranger = keys.ed25519b.key;
const presentable = [...listed, keys.ecdsa521.key, stranger];

const HOSTS = ["web1.example.com", "WEB1.example.com", "db.example.org", "10.0.0.7", "::1", "vsock/3", "qemu%web3", "a", ""];
const PORTS = [22, 2222, 1, 65535];

const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
};

/** Valid known_hosts lines of every shape the format has. */
function validLines(): string[] {
  const [ed, ec, ec384, rsa] = listed.map(publicKeyText) as [string, string, string, string];
  return [
    `web1.example.com,10.0.0.7 ${ed} web1@test`,
    `[web1.example.com]:2222 ${ec}`,
    `*.example.com,!bad.example.com ${rsa}`,
    `web?.example.*,!web9.example.com ${ec384} trailing comment`,
    `${hashed("web1.example.com")} ${ed}`,
    `${hashed("[web1.example.com]:2222")} ${rsa}`,
    `@revoked web1.example.com ${ec}`,
    `@revoked [db.example.org]:2222 ${ed}`,
    `@cert-authority *.example.com ${ed}`,
    `[*]:2222,vsock/3,qemu%web3 ${ed}`,
    `db.example.org\t${dsaText}`,
    `::1 ${rsa}`,
    "# a comment",
    "",
    `  10.0.0.7 ${ec384}  `,
  ];
}

function validFile(rand: Rand, lines: string[]): string {
  const chosen: string[] = [];
  for (let n = 1 + rand.int(8); n > 0; n--) chosen.push(rand.pick(lines));
  return chosen.join(rand.chance(0.2) ? "\r\n" : "\n") + (rand.chance(0.5) ? "\n" : "");
}

/** Every property one known_hosts text must satisfy for every host, port and presented key. */
function checkText(text: string, context: string): void {
  const source = "fuzz";
  let parsed: ParsedKnownHosts;
  try {
    parsed = parseKnownHosts(text, source);
  } catch (error) {
    assert.fail(`${context}: parseKnownHosts threw: ${(error as Error).stack}`);
  }
  const lines = text.split("\n");
  for (const warning of parsed.warnings) assert.match(warning, /^fuzz:\d+: \S/, `${context}: warning without its line`);
  for (const entry of parsed.entries) {
    const m = /^fuzz:(\d+)$/.exec(entry.source);
    assert.ok(m && Number(m[1]) >= 1 && Number(m[1]) <= lines.length, `${context}: bad source ${entry.source}`);
  }
  for (const host of HOSTS) {
    for (const port of PORTS) {
      const anchors = anchorsFromKnownHosts(parsed, host, port);
      const names = [knownHostsName(host, port), host];
      for (const presented of presentable) {
        const where = `${context}, ${presented.type} key presented by ${knownHostsName(host, port)}`;
        const verdict = verifyHostKey(anchors, presented);
        const blob64 = presented.blob.toString("base64");
        if (presented === stranger) {
          assert.ok(verdict.kind === "unknown" || verdict.kind === "changed", `${where}: a key no line lists is ${verdict.kind}`);
          continue;
        }
        const revokedHere = parsed.entries.some(
          (e) => e.marker === "revoked" && e.key.blob.equals(presented.blob) && names.some((n) => entryMatchesHost(e, n)),
        );
        if (revokedHere) assert.equal(verdict.kind, "revoked", `${where}: a key @revoked for this host was ${verdict.kind}`);
        if (verdict.kind !== "trusted") continue;
        assert.notEqual(presented.type, "ssh-dss", `${where}: a DSA key was trusted`);
        // The trusting line must list this very key, unmarked, under a name of this host.
        const line = Number(/^fuzz:(\d+)$/.exec(verdict.source)?.[1]);
        const lineText = lines[line - 1] ?? "";
        assert.ok(lineText.includes(blob64), `${where}: trusted by ${verdict.source}, which does not list the key`);
        assert.ok(!lineText.trimStart().startsWith("@"), `${where}: trusted by a marker line ${verdict.source}`);
        const entry = parsed.entries.find((e) => e.source === verdict.source);
        assert.ok(entry && entry.marker === undefined && entry.key.blob.equals(presented.blob), `${where}: trusted by ${verdict.source}`);
        assert.ok(names.some((n) => entryMatchesHost(entry, n)), `${where}: trusted by a line for another host`);
      }
    }
  }
}

test(`damaged real known_hosts files never throw and never trust an unlisted key (seed ${FUZZ_SEED})`, async () => {
  const lines = validLines();
  await fuzz("known_hosts (mutated files)", { seed: FUZZ_SEED, count: 1500 }, (rand) => {
    return mutateTextTimes(rand, validFile(rand, lines), lines);
  }, checkText);
});

test(`random text and hostile host fields never throw and never trust an unlisted key (seed ${FUZZ_SEED + 1})`, async () => {
  const keyText = listed.map(publicKeyText);
  const fields = ["*", "!*", "!", ",", "|1|", "|1||", "|2|a|b", "[", "[]:", "[web1.example.com]:", "?", "*".repeat(5000), "*a".repeat(3000), "\\", "@revoked", "@cert-authority", "@"];
  await fuzz("known_hosts (random lines)", { seed: FUZZ_SEED + 1, count: 1500 }, (rand) => {
    const out: string[] = [];
    for (let n = 1 + rand.int(6); n > 0; n--) {
      const host = Array.from({ length: 1 + rand.int(4) }, () => (rand.chance(0.5) ? rand.pick(fields) : rand.pick(HOSTS) || rand.text(12))).join(",");
      const marker = rand.chance(0.3) ? `${rand.pick(["@revoked", "@cert-authority", "@x", "@"])} ` : "";
      const key = rand.chance(0.8) ? rand.pick(keyText) : `${rand.text(12)} ${rand.text(40)}`;
      out.push(rand.chance(0.1) ? rand.text(80) : `${marker}${host}${rand.pick([" ", "\t", "  "])}${key}${rand.chance(0.3) ? ` ${rand.text(20)}` : ""}`);
    }
    return out.join("\n");
  }, checkText);
});
