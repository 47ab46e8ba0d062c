// known_hosts as OpenSSH reads it: parsing, host patterns, hashed names (ssh-keygen -H as
// the oracle) and the selection of one host's anchors, including the bare-host fallback.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  anchorsFromKnownHosts,
  hostFieldMatches,
  knownHostsName,
  mergeAnchors,
  parseKnownHosts,
  type TrustAnchors,
} from "../../src/core/hostkeys/index.ts";
import { generateTestKeys, keyPart, sshKeygen, writeFile } from "./hostkeys-fixtures.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());
const ED = keyPart(keys.ed25519);
const ED_B = keyPart(keys.ed25519b);
const RSA = keyPart(keys.rsa);
const EC256 = keyPart(keys.ecdsa256);

const sources = (anchors: TrustAnchors) => anchors.keys.map((k) => k.source);

describe("parseKnownHosts", () => {
  test("skips blank and comment lines and records source:line, marker and comment", () => {
    const text = [
      "# a comment",
      "",
      "   ",
      `web1.example.com,10.0.0.1 ${ED} my comment here`,
      `@revoked * ${ED_B}`,
      `@cert-authority *.example.com ${RSA}`,
      `\t  indented ${EC256}\r`,
    ].join("\n");
    const { entries, warnings } = parseKnownHosts(text, "/k/known_hosts");
    assert.deepEqual(warnings, []);
    assert.deepEqual(entries.map((e) => [e.source, e.marker, e.key.type, e.comment]), [
      ["/k/known_hosts:4", undefined, "ssh-ed25519", "my comment here"],
      ["/k/known_hosts:5", "revoked", "ssh-ed25519", undefined],
      ["/k/known_hosts:6", "cert-authority", "ssh-rsa", undefined],
      ["/k/known_hosts:7", undefined, "ecdsa-sha2-nistp256", undefined],
    ]);
    assert.ok(entries[0]!.key.blob.equals(keys.ed25519.key.blob));
  });

  test("warns about each malformed line with file:line and still parses the rest", () => {
    const [type, b64] = ED.split(" ") as [string, string];
    const lines = [
      `good1 ${ED}`,
      `bad-base64 ${type} ${b64.slice(0, -4)}@@@@`,
      `wrong-type ssh-rsa ${b64}`,
      "only-a-host",
      `host-and-type ${type}`,
      `|1|notbase64!|alsonot ${ED}`,
      `|2|${Buffer.alloc(20).toString("base64")}|${Buffer.alloc(20).toString("base64")} ${ED}`,
      `|1|${Buffer.alloc(8).toString("base64")}|${Buffer.alloc(20).toString("base64")} ${ED}`,
      `@weird host ${ED}`,
      "legacy 2048 35 1234567890",
      `good2 ${RSA}`,
    ];
    const { entries, warnings } = parseKnownHosts(lines.join("\n"), "kh");
    assert.deepEqual(entries.map((e) => e.source), ["kh:1", "kh:11"]);
    assert.deepEqual(warnings.map((w) => w.split(": ")[0]), ["kh:2", "kh:3", "kh:4", "kh:5", "kh:6", "kh:7", "kh:8", "kh:9", "kh:10"]);
    const why = (line: number) => warnings.find((w) => w.startsWith(`kh:${line}: `)) ?? "";
    assert.match(why(2), /base64/);
    assert.match(why(3), /ssh-rsa does not match the key data \(ssh-ed25519\)/);
    assert.match(why(4), /ends before the key type/);
    assert.match(why(5), /ends after key type ssh-ed25519/);
    assert.match(why(6), /bad host hash/);
    assert.match(why(7), /unsupported host hash/);
    assert.match(why(8), /bad host hash/);
    assert.match(why(9), /unknown marker "@weird"/);
    assert.match(why(10), /protocol 1/);
  });

  test("keeps a line with an unknown key type, which selection then reports as unusable", () => {
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from("ssh-ed448"), Buffer.from([0, 0, 0, 1, 7])]);
    const { entries, warnings } = parseKnownHosts(`h ssh-ed448 ${blob.toString("base64")}`, "kh");
    assert.deepEqual(warnings, []);
    assert.equal(entries[0]!.key.type, "ssh-ed448");
    const anchors = anchorsFromKnownHosts(entries, "h", 22);
    assert.match(anchors.warnings.join("\n"), /kh:1: ssh-ed448 keys are not supported/);
  });
});

describe("host patterns", () => {
  const cases: [string, string, boolean][] = [
    ["web1.example.com", "web1.example.com", true],
    ["WEB1.Example.COM", "web1.example.com", true],
    ["web1.example.com", "WEB1.EXAMPLE.COM", true],
    ["web1.example.com", "web2.example.com", false],
    ["*.example.com", "web1.example.com", true],
    ["*.example.com", "example.com", false],
    ["*", "anything", true],
    ["web?.example.com", "web1.example.com", true],
    ["web?.example.com", "web12.example.com", false],
    ["w*1*.com", "web1.example.com", true],
    ["a,b,web1.example.com", "web1.example.com", true],
    ["*.example.com,!web1.example.com", "web1.example.com", false],
    ["*.example.com,!web1.example.com", "web2.example.com", true],
    ["!web1.example.com,*.example.com", "web1.example.com", false],
    ["!web1.example.com", "web2.example.com", false],
    ["[127.0.0.1]:2222", "[127.0.0.1]:2222", true],
    ["[127.0.0.1]:2222", "127.0.0.1", false],
    ["127.0.0.1", "[127.0.0.1]:2222", false],
    ["[127.0.0.?]:22*", "[127.0.0.1]:2222", true],
    ["*,![127.0.0.1]:2222", "[127.0.0.1]:2222", false],
    ["*,![127.0.0.1]:2222", "127.0.0.1", true],
  ];
  for (const [patterns, name, expected] of cases) {
    test(`"${patterns}" ${expected ? "matches" : "does not match"} ${name}`, () => {
      const entry = parseKnownHosts(`${patterns} ${ED}`, "t").entries[0]!;
      assert.equal(hostFieldMatches(entry.hosts, name), expected);
    });
  }

  test("writes [host]:port for ports other than 22", () => {
    assert.equal(knownHostsName("web1", 22), "web1");
    assert.equal(knownHostsName("web1", 2222), "[web1]:2222");
  });

  test("honours names hashed by ssh-keygen -H, bare and [host]:2222", () => {
    const path = writeFile(keys.dir, "hashed_known_hosts", `Web1.Example.com ${ED}\n[web1.example.com]:2222 ${RSA}\n`);
    assert.ok(sshKeygen(["-H", "-f", path]) !== undefined, "ssh-keygen -H failed");
    const text = readFileSync(path, "utf8");
    assert.ok(!text.includes("example.com"), "ssh-keygen -H left a clear name");
    const { entries, warnings } = parseKnownHosts(text, path);
    assert.deepEqual(warnings, []);
    assert.deepEqual(entries.map((e) => e.hosts.kind), ["hashed", "hashed"]);
    assert.equal(hostFieldMatches(entries[0]!.hosts, "web1.example.com"), true);
    assert.equal(hostFieldMatches(entries[0]!.hosts, "web2.example.com"), false);
    assert.equal(hostFieldMatches(entries[1]!.hosts, "[web1.example.com]:2222"), true);
    assert.equal(hostFieldMatches(entries[1]!.hosts, "web1.example.com"), false);
    assert.deepEqual(anchorsFromKnownHosts(entries, "web1.example.com", 2222).keys.map((k) => k.key.type), ["ssh-rsa"]);
    assert.deepEqual(anchorsFromKnownHosts(entries, "web1.example.com", 22).keys.map((k) => k.key.type), ["ssh-ed25519"]);
  });
});

describe("anchorsFromKnownHosts", () => {
  const cases: { name: string; lines: string[]; host: string; port: number; want: string[] }[] = [
    { name: "port 22 uses the bare name", lines: [`h ${ED}`, `[h]:22 ${RSA}`], host: "h", port: 22, want: ["kh:1"] },
    { name: "a non-22 port uses [host]:port", lines: [`[h]:2222 ${ED}`, `[h]:2200 ${RSA}`], host: "h", port: 2222, want: ["kh:1"] },
    { name: "a bare entry is used for a non-22 port when [host]:port has none", lines: [`127.0.0.1 ${ED}`], host: "127.0.0.1", port: 2222, want: ["kh:1"] },
    { name: "*,![127.0.0.1]:2222 is accepted through the bare-host fallback", lines: [`*,![127.0.0.1]:2222 ${ED}`], host: "127.0.0.1", port: 2222, want: ["kh:1"] },
    { name: "any entry under [host]:port disables the bare-host fallback, as in OpenSSH 9", lines: [`[h]:2222 ${ED}`, `h ${ED_B}`, `h ${RSA}`], host: "h", port: 2222, want: ["kh:1"] },
    { name: "an ECDSA entry under [host]:port hides a bare ECDSA key of another curve", lines: [`[h]:2222 ${keyPart(keys.ecdsa384)}`, `h ${EC256}`], host: "h", port: 2222, want: ["kh:1"] },
    { name: "a negated pattern removes the whole line", lines: [`*,!h ${ED}`], host: "h", port: 22, want: [] },
    { name: "lines for other hosts are ignored", lines: [`other ${ED}`], host: "h", port: 22, want: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(sources(anchorsFromKnownHosts(parseKnownHosts(c.lines.join("\n"), "kh"), c.host, c.port)), c.want);
    });
  }

  test("applies @revoked lines that name either the bare host or [host]:port", () => {
    const text = [`@revoked h ${ED}`, `@revoked [h]:2222 ${RSA}`, `@revoked [h]:2200 ${EC256}`].join("\n");
    const anchors = anchorsFromKnownHosts(parseKnownHosts(text, "kh"), "h", 2222);
    assert.deepEqual(anchors.revoked.map((k) => k.source), ["kh:1", "kh:2"]);
    assert.deepEqual(anchors.keys, []);
  });

  test("keeps a matching @cert-authority line as a CA, never as a plain key, and without a warning", () => {
    const anchors = anchorsFromKnownHosts(parseKnownHosts(`@cert-authority *.example.com ${ED}`, "kh"), "web1.example.com", 22);
    assert.deepEqual(anchors.keys, []);
    assert.deepEqual(anchors.certAuthorities.map((k) => k.source), ["kh:1"]);
    assert.deepEqual(anchors.warnings, []);
    const other = anchorsFromKnownHosts(parseKnownHosts(`@cert-authority *.example.com ${ED}`, "kh"), "web1.example.org", 22);
    assert.deepEqual(other.certAuthorities, []);
  });

  test("carries parse warnings through and merges sources", () => {
    const file = anchorsFromKnownHosts(parseKnownHosts(`garbage\nh ${ED}`, "file"), "h", 22);
    const inline = anchorsFromKnownHosts(parseKnownHosts(`h ${RSA}`, "guests.h.known_hosts[0]"), "h", 22);
    assert.match(file.warnings[0]!, /^file:1: /);
    const merged = mergeAnchors(file, inline);
    assert.deepEqual(sources(merged), ["file:2", "guests.h.known_hosts[0]:1"]);
    assert.deepEqual(merged.warnings, file.warnings);
  });
});
