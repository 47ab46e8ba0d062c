// The chacha20 primitive ssh2 needs exists on every runtime (natively or through the shim),
// matches RFC 8439's test vector, and leaves AES-GCM first in ssh2's cipher preference.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import "../../src/core/ssh/ssh2.ts";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

test("chacha20 with OpenSSL's IV layout (LE counter + nonce) matches RFC 8439 section 2.4.2", () => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const iv = Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from("000000000000004a00000000", "hex")]);
  const plaintext = Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const out = crypto.createCipheriv("chacha20" as never, key, iv).update(plaintext);
  const rfc =
    "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
    "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
    "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
    "5af90bbf74a35be6b40b8eedf2785e42874d";
  assert.equal(out.toString("hex"), rfc);
  const back = crypto.createDecipheriv("chacha20" as never, key, iv).update(out);
  assert.deepEqual(back, plaintext);
});

test("ssh2 offers chacha20-poly1305 on this runtime, after the AES-GCM ciphers", () => {
  const { DEFAULT_CIPHER } = require("ssh2/lib/protocol/constants.js") as { DEFAULT_CIPHER: string[] };
  assert.ok(DEFAULT_CIPHER.includes("chacha20-poly1305@openssh.com"), DEFAULT_CIPHER.join(","));
  assert.equal(DEFAULT_CIPHER[0], "aes128-gcm@openssh.com");
});

test("every module loads ssh2 through src/core/ssh/ssh2.ts, so the shim always comes first", () => {
  const root = new URL("../../src", import.meta.url).pathname;
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith("/ssh/ssh2.ts")) {
        if (/^import (?!type )[^;]*from "ssh2";/m.test(readFileSync(p, "utf8"))) offenders.push(p);
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, []);
});
