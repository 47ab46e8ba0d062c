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
    case "certificate-refused": {
      const what = verdict.certificate ? ` (${verdict.certificate})` : "";
      return new HostKeyError("certificate-refused", `host certificate for ${hopLabel} refused: ${verdict.reason}${what}`, {
        ...info,
        hint: CERTIFICATE_HINTS[verdict.failure] ?? "the certificate is corrupt or was not made by a trusted CA; re-sign it with `ssh-keygen -s CA -h`",
      });
    }
  }
}

// What the operator can do about each failed certificate check.
const CERTIFICATE_HINTS: Record<string, string> = {
  "no-authority": "if you trust that CA for this host, add `@cert-authority PATTERN CA-KEY` (ssh2vsock known-hosts --cert-authority PATTERN CA.pub)",
  "bad-signature": "the certificate was altered or not signed by the CA it names; re-sign it with `ssh-keygen -s CA -h`",
  "sha1-signature": "re-sign the host certificate with `ssh-keygen -s CA -t rsa-sha2-512 -h …`",
  "not-host": "the guest presents a user certificate: sign its host key with `ssh-keygen -s CA -h …`",
  "not-user": "sign the key as a user certificate (without -h)",
  "not-yet-valid": "check this machine's clock, or re-sign with a validity that has begun (`ssh-keygen -s CA -h -V …`)",
  expired: "renew the host certificate (`ssh-keygen -s CA -h -V …`) or check this machine's clock",
  "no-principals": "re-sign the host certificate with `-n HOSTNAME`: certificates without principals are refused",
  principal: "re-sign the host certificate with `-n` naming this host, or set the guest's hostname to a principal it lists",
  "critical-option": "host certificates carry no critical options: re-sign without -O",
  "revoked-ca": "the CA is marked @revoked: its certificates are never accepted",
  "revoked-key": "the certified key is marked @revoked and is never accepted, whatever certificate it carries",
};
