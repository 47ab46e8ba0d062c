// The `--json` form of known_hosts lines shared by `known-hosts` and `keyscan`: one object per
// line with snake_case keys, printed as one JSON array (the project's rule for lists).
import { fingerprintSha256, publicKeyText, type PublicKey } from "../core/hostkeys/index.ts";

export interface KnownHostsJson {
  /** The host field as written: a name, `[host]:port`, a hashed `|1|…` name, or a CA's pattern. */
  host: string;
  type: string;
  /** Base64 of the key blob. */
  key: string;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  line: string;
  /** Only on `@cert-authority` lines. */
  marker?: "cert-authority";
}

/** Describes one generated line for `key`; the host field is read back from the line itself. */
export function knownHostsJson(key: PublicKey, line: string): KnownHostsJson {
  const marker = line.startsWith("@cert-authority ");
  const fields = line.split(" ");
  const host = marker ? fields[1]! : fields[0]!;
  const [type, base64] = publicKeyText(key).split(" ") as [string, string];
  const out: KnownHostsJson = { host, type, key: base64, fingerprint: fingerprintSha256(key.blob), line };
  if (marker) out.marker = "cert-authority";
  return out;
}
