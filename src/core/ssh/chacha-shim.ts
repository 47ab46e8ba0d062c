// Supplies `createCipheriv('chacha20', …)` from @noble/ciphers where the runtime lacks it (Bun),
// so ssh2 keeps chacha20-poly1305@openssh.com; must be imported before ssh2 is first loaded.
// ssh2 reads getCiphers() once and destructures createCipheriv at load, and Bun has no chacha20.
import crypto from "node:crypto";
import { chacha20 } from "@noble/ciphers/chacha.js";

/** True when this module had to install the fallback (reported by `-vv` and doctor). */
export const chachaShimInstalled = !crypto.getCiphers().includes("chacha20");

interface OneShotCipher {
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}

/**
 * ssh2 uses the primitive as OpenSSL's "chacha20": a 16-byte IV made of a 4-byte little-endian
 * block counter and a 12-byte nonce, and exactly one update() per cipher object.
 */
function chachaOneShot(key: Uint8Array, iv: Uint8Array): OneShotCipher {
  if (key.length !== 32 || iv.length !== 16) throw new Error("chacha20: invalid key or iv length");
  const k = Uint8Array.from(key);
  const counter = new DataView(iv.buffer, iv.byteOffset, 4).getUint32(0, true);
  const nonce = Uint8Array.from(iv.subarray(4));
  let used = false;
  return {
    update(data: Uint8Array): Buffer {
      // A second update would need the keystream to continue mid-block; ssh2 never does that.
      if (used) throw new Error("chacha20 shim: one update() per cipher object");
      used = true;
      const out = chacha20(k, nonce, data, undefined, counter);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
    final: () => Buffer.alloc(0),
  };
}

if (chachaShimInstalled) {
  const c = crypto as unknown as Record<string, unknown>;
  const getCiphers = crypto.getCiphers;
  const createCipheriv = crypto.createCipheriv;
  const createDecipheriv = crypto.createDecipheriv;
  c.getCiphers = () => [...getCiphers(), "chacha20"];
  c.createCipheriv = (alg: string, key: Uint8Array, iv: Uint8Array, opts?: unknown) =>
    alg === "chacha20" ? chachaOneShot(key, iv) : (createCipheriv as Function)(alg, key, iv, opts);
  // A stream cipher decrypts with the same keystream.
  c.createDecipheriv = (alg: string, key: Uint8Array, iv: Uint8Array, opts?: unknown) =>
    alg === "chacha20" ? chachaOneShot(key, iv) : (createDecipheriv as Function)(alg, key, iv, opts);
}
