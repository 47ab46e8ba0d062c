// SSHFP RDATA (RFC 4255 §3.1): algorithm, fingerprint type, then the fingerprint, whose length
// is whatever RDLENGTH leaves. dns-packet guesses it from the type instead, and an unknown type corrupts every later record.

/** One SSHFP record as published, before any policy is applied. */
export interface SshfpRdata {
  /** 1 RSA, 2 DSA, 3 ECDSA, 4 Ed25519, 6 Ed448, others unknown. */
  algorithm: number;
  /** 1 SHA-1, 2 SHA-256, others unknown. */
  fingerprintType: number;
  fingerprint: Buffer;
}

/** SSHFP's RR type number. */
export const SSHFP_TYPE = 44;

/**
 * Decodes SSHFP RDATA of exactly RDLENGTH bytes (`rdata` is the record's data, already cut
 * to RDLENGTH); the fingerprint is every byte after the first two, whatever its type.
 * Throws when the data is too short to hold the two fixed octets.
 * @example decodeSshfpRdata(Buffer.from("0402" + "ab".repeat(32), "hex")) // { algorithm: 4, fingerprintType: 2, fingerprint: <32 bytes> }
 */
export function decodeSshfpRdata(rdata: Buffer): SshfpRdata {
  if (rdata.length < 2) throw new Error(`SSHFP data of ${rdata.length} bytes is shorter than its 2 fixed octets`);
  return { algorithm: rdata[0]!, fingerprintType: rdata[1]!, fingerprint: Buffer.from(rdata.subarray(2)) };
}
