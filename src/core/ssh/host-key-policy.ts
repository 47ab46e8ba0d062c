// Gathers every trust source configured for a hop (inline entries, a known_hosts file, SSHFP)
// into one HostKeyPolicy: the algorithms to offer and the single verdict function.
import type { HopVerification } from "../config/types.ts";
import type { HostKeyVerdict, PublicKey, TrustAnchors, TrustedFingerprint } from "../hostkeys/types.ts";
import {
  ALL_SAFE_HOST_KEY_ALGORITHMS,
  anchorsFromKnownHosts,
  fingerprintSha256,
  hostKeyAlgorithmsFor,
  mergeAnchors,
  parseKnownHosts,
  verifyHostKey,
} from "../hostkeys/index.ts";
import { emptyAnchors } from "../hostkeys/types.ts";
import type { KnownHostsEntry } from "../hostkeys/index.ts";
import { HostKeyError } from "../errors.ts";

export interface HostKeyPolicy {
  /** Host key algorithms to offer, only those with a trusted key (never SHA-1 ssh-rsa, which ssh2 offers by default). */
  readonly algorithms: string[];
  verify(key: PublicKey): HostKeyVerdict;
  fingerprint(key: PublicKey): string;
  /** Where trust comes from, for messages: `known_hosts file /x, SSHFP via 127.0.0.1:53`. */
  readonly sources: string[];
  /** Malformed lines, ignored SSHFP records, @cert-authority lines. */
  readonly warnings: string[];
  readonly anchors: TrustAnchors;
}

/** The I/O a policy needs; production reads files and asks DNS, tests may pass fakes. */
export interface TrustIO {
  /** Returns the file's text, or undefined when it does not exist. */
  readText(path: string): string | undefined;
  sshfp(
    name: string,
    resolver: string,
    opts: { caFile?: string; tlsName?: string },
  ): Promise<{ fingerprints: TrustedFingerprint[]; warnings: string[] }>;
}

/**
 * Builds the policy for a hop whose host key is checked under `host` (and `port`).
 * Throws HostKeyError when no trusted key exists at all, before any connection is made.
 */
export async function buildHostKeyPolicy(
  v: HopVerification,
  host: string | undefined,
  port: number,
  hopLabel: string,
  io: TrustIO,
): Promise<HostKeyPolicy> {
  if (v.ignoreHostKey) {
    return {
      algorithms: [...ALL_SAFE_HOST_KEY_ALGORITHMS],
      verify: () => ({ kind: "trusted", source: `${v.origin}.ssh_ignore_host_key` }),
      fingerprint: (k) => fingerprintSha256(k.blob),
      sources: [`${v.origin}.ssh_ignore_host_key = true`],
      warnings: [],
      anchors: emptyAnchors(),
    };
  }
  if (host === undefined) throw new HostKeyError("no-hostname", `${hopLabel}: no hostname to check the host key against`);
  const parts: TrustAnchors[] = [];
  const sources: string[] = [];
  // Every known_hosts entry of the hop goes into one selection, so OpenSSH's [host]:port
  // fallback rule sees them all (a bare entry in one source must not override the other).
  const entries: KnownHostsEntry[] = [];
  const warnings: string[] = [];
  if (v.knownHosts.length > 0) {
    const parsed = parseKnownHosts(v.knownHosts.join("\n"), `${v.origin}.known_hosts`);
    entries.push(...parsed.entries);
    warnings.push(...parsed.warnings);
    sources.push(`${v.origin}.known_hosts`);
  }
  if (v.knownHostsFile !== undefined) {
    const text = io.readText(v.knownHostsFile);
    if (text === undefined) {
      sources.push(`known_hosts file ${v.knownHostsFile} (missing)`);
    } else {
      const parsed = parseKnownHosts(text, v.knownHostsFile);
      entries.push(...parsed.entries);
      warnings.push(...parsed.warnings);
      sources.push(`known_hosts file ${v.knownHostsFile}`);
    }
  }
  parts.push(anchorsFromKnownHosts({ entries, warnings }, host, port));
  if (v.useSshfp && v.dnsResolver !== undefined) {
    const answer = await io.sshfp(host, v.dnsResolver, { caFile: v.caFile, tlsName: v.dnsTlsName });
    parts.push({ ...emptyAnchors(), fingerprints: answer.fingerprints, warnings: answer.warnings });
    sources.push(`SSHFP via ${v.dnsResolver}${v.caFile ? " over TLS" : ""}`);
  }
  const anchors = mergeAnchors(...parts);
  const algorithms = hostKeyAlgorithmsFor(anchors);
  if (algorithms.length === 0) {
    throw new HostKeyError("no-trusted-key", `${hopLabel}: no trusted host key for ${displayName(host, port)} in ${sources.join(", ") || "any source"}`, {
      expected: sources,
      hint: `add the host's key to a trusted source, e.g. \`ssh-keyscan -p ${port} ${host}\` checked out of band, or \`ssh2vsock keyscan\` for a guest`,
    });
  }
  return {
    algorithms,
    verify: (k) => verifyHostKey(anchors, k),
    fingerprint: (k) => fingerprintSha256(k.blob),
    sources,
    warnings: anchors.warnings,
    anchors,
  };
}

function displayName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
