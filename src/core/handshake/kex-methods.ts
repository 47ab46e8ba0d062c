// Which server message carries the host key K_S for each key exchange method the inspector
// can read; a method not listed here is refused, never passed unverified.

/** Methods whose reply is message 31 with K_S as its first field (RFC 5656, 8731, 8268, 4253). */
const REPLY_31 = new Set([
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group1-sha1",
  "diffie-hellman-group14-sha1",
  "diffie-hellman-group14-sha256",
  "diffie-hellman-group15-sha512",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group17-sha512",
  "diffie-hellman-group18-sha512",
  "sntrup761x25519-sha512",
  "sntrup761x25519-sha512@openssh.com",
  "mlkem768x25519-sha256",
]);

/** Group exchange (RFC 4419): 31 is the group, 33 the reply with K_S first. */
const GROUP_EXCHANGE = new Set(["diffie-hellman-group-exchange-sha1", "diffie-hellman-group-exchange-sha256"]);

export interface KexShape {
  /** The server message whose first field is K_S. */
  reply: 31 | 33;
  /** Other server messages of the method that come before the reply (the GEX group). */
  before: number[];
}

/**
 * The message layout of a key exchange method, or undefined when the inspector cannot read it.
 * @example kexShape("diffie-hellman-group-exchange-sha256") // { reply: 33, before: [31] }
 */
export function kexShape(method: string): KexShape | undefined {
  if (REPLY_31.has(method)) return { reply: 31, before: [] };
  if (GROUP_EXCHANGE.has(method)) return { reply: 33, before: [31] };
  return undefined;
}
