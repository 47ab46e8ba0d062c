// Turns a refusing host key verdict into the typed HostKeyError (exit 3) with a one-line
// message naming the hop, the presented fingerprint and the expected keys, plus a hint.

import { HostKeyError } from "../errors.ts";
import type { HostKeyVerdict } from "./types.ts";

/** Any verdict but "trusted". */
export type RefusedVerdict = Exclude<HostKeyVerdict, { kind: "trusted" }>;

/**
 * The error to throw for a refused host key. `hopLabel` names the host as the user knows it
 * (`web1.example.com`, `hypervisor hv1.example.com:2222`); `keyType` of the presented key
 * makes the message name it too.
 * @example throw hostKeyErrorFor(verdict, "web1.example.com", "ssh-ed25519")
 * // host key for web1.example.com (ssh-ed25519 SHA256:…) is not trusted: …
 */
export function hostKeyErrorFor(verdict: RefusedVerdict, hopLabel: string, keyType?: string): HostKeyError {
  const presented = keyType ? `${keyType} ${verdict.presented}` : verdict.presented;
  const subject = `host key for ${hopLabel} (${presented})`;
  const info = { presented: verdict.presented, expected: verdict.expected };
  switch (verdict.kind) {
    case "revoked":
      return new HostKeyError("hostkey-revoked", `${subject} is REVOKED by ${verdict.source}`, {
        ...info,
        hint: "this key is marked @revoked and is never accepted; the host must be given a new host key",
      });
    case "changed":
      return new HostKeyError(
        "hostkey-changed",
        `${subject} has CHANGED: expected ${verdict.expected.join("; ")}`,
        {
          ...info,
          hint: "a changed host key can mean someone is intercepting the connection (man in the middle); " +
            "only if you know the host was reinstalled, remove the old entry (ssh-keygen -R NAME -f FILE) " +
            "and add the new key after checking its fingerprint out of band (ssh2vsock keyscan)",
        },
      );
    case "unknown": {
      const known = verdict.expected.length > 0
        ? `only other key types are known: ${verdict.expected.join("; ")}`
        : "no known_hosts entry or SSHFP record names this host";
      return new HostKeyError("hostkey-unknown", `${subject} is not trusted: ${known}`, {
        ...info,
        hint: "check the fingerprint out of band, then add the key: `ssh2vsock keyscan TARGET` prints " +
          "known_hosts lines, and `ssh2vsock doctor` can add it after asking",
      });
    }
  }
}
