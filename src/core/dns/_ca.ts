// The CA bundle of `ca_file` and the check that a resolver's certificate chain ends at one of
// its CAs: runtimes differ on whether `ca` replaces or extends the system roots, so we check.

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { DetailedPeerCertificate } from "node:tls";
import { HostKeyError } from "../errors.ts";

/** The certificates of a ca_file, as PEM (for node:tls) and parsed (for the chain check). */
export interface CaBundle {
  pem: string[];
  certs: X509Certificate[];
}

// Deeper chains than this are not what a DNS resolver presents; it bounds the walk.
const MAX_CHAIN = 8;

/** Reads and parses every certificate in `caFile`; throws HostKeyError if any is unusable. */
export function loadCaFile(caFile: string): CaBundle {
  let text: string;
  try {
    text = readFileSync(caFile, "utf8");
  } catch (err) {
    throw caError(`cannot read ca_file ${caFile}: ${(err as Error).message}`, err);
  }
  const pem = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (pem.length === 0) throw caError(`ca_file ${caFile} holds no PEM certificate`);
  const certs = pem.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      // Some runtimes silently skip a bad CA; refusing it keeps "only these CAs" true.
      throw caError(`ca_file ${caFile}: certificate ${i + 1} cannot be read: ${(err as Error).message}`, err);
    }
  });
  return { pem, certs };
}

function caError(message: string, cause?: unknown): HostKeyError {
  return new HostKeyError("dns-ca-file", message, {
    hint: "ca_file must hold the PEM certificate(s) of the CA that issued the DNS resolver's certificate",
    cause,
  });
}

/**
 * True when the presented chain, followed link by verified link from the leaf, reaches a
 * certificate issued by (or equal to) one of `cas`.
 */
export function chainReachesCa(peer: DetailedPeerCertificate, cas: X509Certificate[]): boolean {
  let current: DetailedPeerCertificate | undefined = peer;
  for (let depth = 0; depth < MAX_CHAIN && current?.raw; depth++) {
    const cert = new X509Certificate(current.raw);
    const trusted = cas.some(
      (ca) => ca.fingerprint256 === cert.fingerprint256 || (cert.checkIssued(ca) && cert.verify(ca.publicKey)),
    );
    if (trusted) return true;
    const next: DetailedPeerCertificate | undefined = current.issuerCertificate;
    if (!next?.raw || next === current) return false;
    const issuer = new X509Certificate(next.raw);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return false;
    current = next;
  }
  return false;
}
