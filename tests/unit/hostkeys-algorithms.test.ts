// Host key algorithms offered in key exchange: only those a trusted key can verify.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ALL_SAFE_HOST_KEY_ALGORITHMS,
  describeAlgorithmMismatch,
  emptyAnchors,
  hostKeyAlgorithmsFor,
  type TrustAnchors,
} from "../../src/core/hostkeys/index.ts";
import { generateTestKeys, type TestKey } from "./hostkeys-fixtures.ts";

const keys = generateTestKeys();
after(() => keys.cleanup());

const withKeys = (...list: TestKey[]): TrustAnchors => ({
  ...emptyAnchors(),
  keys: list.map((k, i) => ({ key: k.key, source: `kh:${i + 1}` })),
});
const withSshfp = (...algorithms: number[]): TrustAnchors => ({
  ...emptyAnchors(),
  fingerprints: algorithms.map((algorithm) => ({ algorithm, sha256: Buffer.alloc(32), source: "SSHFP" })),
});

describe("hostKeyAlgorithmsFor", () => {
  const cases: [string, () => TrustAnchors, string[]][] = [
    ["an Ed25519 key offers ssh-ed25519", () => withKeys(keys.ed25519), ["ssh-ed25519"]],
    ["an ECDSA P-256 key offers only its curve", () => withKeys(keys.ecdsa256), ["ecdsa-sha2-nistp256"]],
    ["an ECDSA P-384 key offers only its curve", () => withKeys(keys.ecdsa384), ["ecdsa-sha2-nistp384"]],
    ["an ECDSA P-521 key offers only its curve", () => withKeys(keys.ecdsa521), ["ecdsa-sha2-nistp521"]],
    ["an RSA key offers rsa-sha2-512 and rsa-sha2-256, never ssh-rsa", () => withKeys(keys.rsa), ["rsa-sha2-512", "rsa-sha2-256"]],
    ["several keys come out in preference order", () => withKeys(keys.rsa, keys.ecdsa521, keys.ed25519, keys.ecdsa256), ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256"]],
    ["SSHFP algorithm 1 offers the RSA SHA-2 algorithms", () => withSshfp(1), ["rsa-sha2-512", "rsa-sha2-256"]],
    ["SSHFP algorithm 3 offers all three ECDSA curves", () => withSshfp(3), ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]],
    ["SSHFP algorithm 4 offers ssh-ed25519", () => withSshfp(4), ["ssh-ed25519"]],
    ["SSHFP algorithms 2 (DSA) and 6 (Ed448) offer nothing", () => withSshfp(2, 6), []],
    ["no trusted key offers nothing", () => emptyAnchors(), []],
    ["a revoked key offers nothing", () => ({ ...withKeys(keys.ed25519), revoked: [{ key: keys.ed25519.key, source: "kh:9" }] }), []],
    ["a @cert-authority key offers nothing", () => ({ ...emptyAnchors(), certAuthorities: [{ key: keys.ed25519.key, source: "kh:1" }] }), []],
  ];
  for (const [name, anchors, expected] of cases) {
    test(name, () => assert.deepEqual(hostKeyAlgorithmsFor(anchors()), expected));
  }

  test("the full safe list excludes ssh-rsa and ssh-dss", () => {
    assert.deepEqual([...ALL_SAFE_HOST_KEY_ALGORITHMS], [
      "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256",
    ]);
  });
});

describe("describeAlgorithmMismatch", () => {
  test("names both lists and the known_hosts key type that would fix it", () => {
    const text = describeAlgorithmMismatch(["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp384"], ["ssh-ed25519"]);
    assert.match(text, /offers host key algorithms rsa-sha2-512, rsa-sha2-256, ecdsa-sha2-nistp384/);
    assert.match(text, /allow only ssh-ed25519/);
    assert.match(text, /known_hosts entry of type ssh-rsa or ecdsa-sha2-nistp384/);
  });

  test("explains a server that signs RSA only with SHA-1", () => {
    assert.match(describeAlgorithmMismatch(["ssh-rsa"], ["ssh-ed25519"]), /SHA-1 \(ssh-rsa\), which is refused/);
  });

  test("says when nothing the server offers is supported", () => {
    assert.match(describeAlgorithmMismatch(["ssh-dss"], []), /\(none: no trusted key\).*none of the server's algorithms is supported/);
  });
});
