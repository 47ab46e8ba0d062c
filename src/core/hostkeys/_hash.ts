// The HMAC behind hashed known_hosts names (`|1|salt|hmac`, OpenSSH's HashKnownHosts).
// Private to src/core/hostkeys.

import { createHmac } from "node:crypto";

/** Magic that starts a hashed host field: hash scheme 1 is HMAC-SHA1. */
export const HASH_MAGIC = "|1|";
/** OpenSSH accepts only salts and digests of SHA-1's output size. */
export const HASH_SIZE = 20;

/** HMAC-SHA1 keyed by the salt over the (already lower-cased) host name. */
export function hostNameHmac(salt: Buffer, name: string): Buffer {
  return createHmac("sha1", salt).update(name, "utf8").digest();
}
