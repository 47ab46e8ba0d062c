// The host key check of one hop: which algorithms the server offers and which we accept, the
// key it presents, and the verdict; an unknown key is trusted only when the user says yes.
import type { HopVerification } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { HostKeyError } from "../errors.ts";
import {
  ALL_SAFE_HOST_KEY_ALGORITHMS,
  describeAlgorithmMismatch,
  fingerprintSha256,
  hostKeyErrorFor,
  knownHostsLine,
  knownHostsName,
  sameKey,
} from "../hostkeys/index.ts";
import { emptyAnchors, type PublicKey } from "../hostkeys/types.ts";
import type { HopTransport } from "../ssh/hop.ts";
import { buildHostKeyPolicy, requirePlainHostKeys, type HostKeyPolicy } from "../ssh/host-key-policy.ts";
import { probeKeyWithInspector } from "../handshake/key-probe.ts";
import { probeHostKey } from "../ssh/probe.ts";
import { fail, failFrom, pass, warn } from "./_verdict.ts";
import type { DoctorDeps, TrustRequest, Verdict } from "./types.ts";

export interface HostKeyCheckInput {
  hop: "hypervisor" | "guest";
  label: string;
  verification: HopVerification;
  host: string | undefined;
  port: number;
  timeoutMs: number;
  /** A fresh transport to the server for the probe handshake. */
  openTransport(): Promise<HopTransport>;
  /**
   * The hop's key is checked by the handshake inspector (a guest in splice mode), which can
   * check host certificates; otherwise ssh2 checks it and sees plain keys only.
   */
  inspected?: boolean;
}

/** A key the user accepted: appended to `file` once a connection with it has succeeded. */
export interface PendingTrust {
  file: string;
  line: string;
  key: PublicKey;
}

export interface HostKeyCheck {
  verdict: Verdict;
  /** The policy the authentication step connects with (including a key the user accepted). */
  policy?: HostKeyPolicy;
  pending?: PendingTrust;
}

const ATTACK_WARNING =
  "WARNING: a host key that differs from the trusted one can mean someone is intercepting the connection (man in the middle)";

/** Runs the check; never throws. */
export async function checkHostKey(input: HostKeyCheckInput, deps: Pick<DoctorDeps, "io" | "confirmTrust">): Promise<HostKeyCheck> {
  const { verification: v, label } = input;
  let policy: HostKeyPolicy;
  try {
    policy = await buildHostKeyPolicy(v, input.host, input.port, label, deps.io);
  } catch (e) {
    // With nothing trusted yet, still look at the key: the user may want to trust it.
    if (!(e instanceof HostKeyError && e.code === "no-trusted-key")) return { verdict: failFrom(e) };
    policy = untrustingPolicy(e.expected);
  }
  if (v.ignoreHostKey) {
    return { verdict: warn(`not verified: ${v.origin}.ssh_ignore_host_key = true accepts any key`, "use known_hosts or SSHFP so this hop is verified"), policy };
  }
  if (policy.anchors.certAuthorities.length > 0) {
    if (input.inspected) return { verdict: await checkWithInspector(input, policy), policy };
    try {
      requirePlainHostKeys(policy, label);
    } catch (e) {
      return { verdict: failFrom(e) };
    }
  }
  const ours = policy.algorithms;
  let probe;
  try {
    probe = await probeHostKey(await input.openTransport(), ours, input.timeoutMs);
  } catch (e) {
    return { verdict: failFrom(e) };
  }
  const lists = `server offers ${probe.offered?.join(", ") ?? "(unknown)"}; we accept ${ours.join(", ")}`;
  if (!probe.presented) {
    if (probe.noOverlap) {
      return {
        verdict: fail(`no host key algorithm in common: ${describeAlgorithmMismatch(probe.offered ?? [], ours)}`,
          "add a known_hosts entry (or SSHFP record) of a key type the server offers, checked out of band (ssh2vsock keyscan, ssh-keyscan)"),
      };
    }
    return { verdict: fail(`${label}: no host key presented: ${probe.failure ?? "handshake ended"}`, "run with -vv for the protocol trace") };
  }
  const key = probe.presented;
  const fp = fingerprintSha256(key.blob);
  const verdict = policy.verify(key);
  const extras = describeSources(policy);
  if (verdict.kind === "trusted") {
    return { verdict: pass(`${lists}; presented ${key.type} ${fp}, trusted by ${verdict.source}${extras}`), policy };
  }
  if (verdict.kind === "changed" || verdict.kind === "revoked") {
    const err = hostKeyErrorFor(verdict, label, key.type);
    return { verdict: fail(`${err.message}. ${ATTACK_WARNING}`, err.hint) };
  }
  // Unknown: ask, when someone can be asked and there is a file to record the answer in.
  const refusal = hostKeyErrorFor(verdict, label, key.type);
  const file = v.knownHostsFile;
  if (!deps.confirmTrust) return { verdict: fail(`${refusal.message} (${lists})`, refusal.hint) };
  if (file === undefined) {
    return { verdict: fail(`${refusal.message}`, `set known_hosts_file for this hop (${v.origin}) so doctor can record a key you accept`) };
  }
  // The line is built before asking: a name that cannot be written as one known_hosts host
  // (a pattern, a newline) is refused here rather than after the user said yes.
  let line: string;
  try {
    line = knownHostsLine(key, input.host ?? "", { port: input.port, hash: true });
  } catch (e) {
    return { verdict: failFrom(e) };
  }
  const name = knownHostsName((input.host ?? "").toLowerCase(), input.port);
  const request: TrustRequest = { hop: input.hop, label, knownHostsName: name, keyType: key.type, fingerprint: fp, file };
  if (!(await deps.confirmTrust(request))) {
    return { verdict: fail(`${refusal.message}; you declined to trust it`, refusal.hint) };
  }
  return {
    verdict: pass(`${lists}; presented ${key.type} ${fp}, accepted by you: added to ${file} once the connection succeeds`),
    policy: withAcceptedKey(policy, key),
    pending: { file, line, key },
  };
}

/** A guest behind the inspector, with a @cert-authority line: the inspector's own key probe. */
async function checkWithInspector(input: HostKeyCheckInput, policy: HostKeyPolicy): Promise<Verdict> {
  try {
    const transport = await input.openTransport();
    if (!("stream" in transport)) throw new Error("the inspector probes a relay stream, not a TCP address");
    const o = await probeKeyWithInspector(transport.stream, policy, { label: input.label, hostname: input.host ?? input.label }, input.timeoutMs);
    const type = o.hostKey.type;
    const what = o.certificate ? `host certificate ${type} (${o.certificate})` : `${type} ${fingerprintSha256(o.hostKey.blob)}`;
    return pass(`negotiated ${o.algorithm} (${o.kex}); presented ${what}, trusted by ${o.source}${describeSources(policy)}`);
  } catch (e) {
    return failFrom(e);
  }
}

function describeSources(policy: HostKeyPolicy): string {
  const sshfp = policy.anchors.fingerprints.length;
  const parts = [`sources: ${policy.sources.join(", ")}`];
  if (sshfp > 0) parts.push(`SSHFP: ${sshfp} SHA-256 record(s), DNSSEC-validated (AD bit set)`);
  if (policy.warnings.length > 0) parts.push(`warnings: ${policy.warnings.join("; ")}`);
  return ` (${parts.join("; ")})`;
}

/** Used when nothing is trusted yet: offer every safe algorithm, trust nothing. */
function untrustingPolicy(sources: string[]): HostKeyPolicy {
  return {
    algorithms: [...ALL_SAFE_HOST_KEY_ALGORITHMS],
    certificateAlgorithms: [],
    verify: (k) => ({ kind: "unknown", presented: fingerprintSha256(k.blob), expected: [] }),
    fingerprint: (k) => fingerprintSha256(k.blob),
    sources,
    warnings: [],
    anchors: emptyAnchors(),
  };
}

/** The policy plus exactly one key the user accepted, offered under its own algorithms. */
function withAcceptedKey(policy: HostKeyPolicy, key: PublicKey): HostKeyPolicy {
  const own = key.type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256"] : [key.type];
  const algorithms = ALL_SAFE_HOST_KEY_ALGORITHMS.filter((a) => own.includes(a));
  return {
    ...policy,
    algorithms,
    verify: (k) => (sameKey(k, key) ? { kind: "trusted", source: "your answer in doctor" } : policy.verify(k)),
  };
}
