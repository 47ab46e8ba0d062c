// Gathers every trust source configured for a hop (inline entries, a known_hosts file, SSHFP)
// into one HostKeyPolicy: the algorithms to offer and the single verdict function.
// Host certificates (@cert-authority) are checkable only by the handshake inspector; a hop that
// ssh2 opens itself must have a plain key (requirePlainHostKeys says so with a hint).
import type { HopVerification } from "../config/types.ts";
import type { HostKeyVerdict, PublicKey, TrustAnchors, TrustedFingerprint } from "../hostkeys/types.ts";
import {
  ALL_SAFE_HOST_KEY_ALGORITHMS,
  anchorsFromKnownHosts,
  certificateAlgorithmsFor,
  hostKeyAlgorithmsFor,
  keyFingerprint,
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
  /**
   * Host certificate algorithms the handshake inspector may accept (never ssh-rsa-cert): all of
   * them with a @cert-authority key for the host. ssh2's own sessions cannot use these.
   */
  readonly certificateAlgorithms: string[];
  /** Decides plain keys and host certificates (for the hop's hostname, at the current time). */
  verify(key: PublicKey): HostKeyVerdict;
  /** SHA256:… of the key; of the certified key for a certificate, as `ssh-keygen -l` prints it. */
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
  /** The time host certificates are checked at; the system clock when absent. */
  now?(): Date;
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
      certificateAlgorithms: [],
      verify: () => ({ kind: "trusted", source: `${v.origin}.ssh_ignore_host_key` }),
      fingerprint: keyFingerprint,
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
  const certificateAlgorithms = certificateAlgorithmsFor(anchors);
  if (algorithms.length === 0 && certificateAlgorithms.length === 0) {
    throw new HostKeyError("no-trusted-key", `${hopLabel}: no trusted host key for ${displayName(host, port)} in ${sources.join(", ") || "any source"}`, {
      expected: sources,
      hint: `add the host's key to a trusted source, e.g. \`ssh-keyscan -p ${port} ${host}\` checked out of band, or \`ssh2vsock keyscan\` for a guest`,
    });
  }
  const now = () => io.now?.() ?? new Date();
  return {
    algorithms,
    certificateAlgorithms,
    verify: (k) => verifyHostKey(anchors, k, { hostname: host, now: now() }),
    fingerprint: keyFingerprint,
    sources,
    warnings: anchors.warnings,
    anchors,
  };
}

/**
 * Refuses, before connecting, a hop that ssh2 opens itself (the hypervisor, a guest in forward
 * mode) when only @cert-authority lines trust it: ssh2 cannot negotiate host certificates.
 * Throws HostKeyError "certificate-only" (exit 3).
 */
export function requirePlainHostKeys(policy: HostKeyPolicy, hopLabel: string): void {
  if (policy.algorithms.length > 0) return;
  const cas = policy.anchors.certAuthorities.map((ca) => ca.source);
  throw new HostKeyError(
    "certificate-only",
    `${hopLabel}: only @cert-authority lines (${cas.join(", ") || "none usable"}) trust this host, and this hop cannot check host certificates`,
    {
      expected: policy.sources,
      hint: "ssh2vsock's own SSH sessions (the hypervisor, a guest in mode = \"forward\") see only plain host keys: " +
        "add the host's plain key (`ssh-keyscan` output checked against its certificate's key, or an SSHFP record)",
    },
  );
}

function displayName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

