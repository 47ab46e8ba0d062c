// `config check` for user certificates: every hop's `ssh_certificate` (or automatic KEY-cert.pub)
// must be a user certificate for that hop's private key; expired or not yet valid is a warning.
import ssh2 from "./ssh2.ts";
import type { HopAuth, LoadedConfig } from "../config/types.ts";
import type { ConfigProblem } from "../errors.ts";
import { checkUserCertificate, keyTypeOfBlob, parsePublicKeyText, type PublicKey } from "../hostkeys/index.ts";
import { certificateCandidate, parseCertificateText } from "./user-certificate.ts";
import { errnoText } from "../errno-text.ts";

/** Problems that make `config check` fail, and those it only reports. */
export interface CertificateFileReport {
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

type ReadFile = (path: string) => Buffer;

// Validity is the server's decision at login time; a certificate that works tomorrow is not a config error.
const TIME_PROBLEM = /^(expired|not yet valid)\b/;

/**
 * The public key of a hop's private key: from the key file (with its passphrase), else from
 * `KEY.pub` (an encrypted key without its passphrase in the config). Undefined when neither reads.
 */
function publicKeyOf(auth: HopAuth, readFile: ReadFile): PublicKey | undefined {
  const file = auth.privateKeyFile!;
  try {
    const parsed = ssh2.utils.parseKey(readFile(file), auth.passphrase);
    if (!(parsed instanceof Error)) {
      const blob = (Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH();
      return { type: keyTypeOfBlob(blob), blob };
    }
  } catch {
    // unreadable: try the .pub file
  }
  try {
    return parsePublicKeyText(readFile(`${file}.pub`).toString("utf8"));
  } catch {
    return undefined;
  }
}

function checkHop(auth: HopAuth, file: string, readFile: ReadFile, now: Date, out: CertificateFileReport): void {
  const candidate = certificateCandidate(auth);
  if (!candidate) return;
  const { path, explicit } = candidate;
  // An automatic KEY-cert.pub is skipped at login when unusable (as OpenSSH does): only warn.
  const at = explicit ? `${auth.origin}.ssh_certificate` : `${auth.origin}.ssh_private_key`;
  const what = explicit ? `certificate ${path}` : `certificate ${path} (found beside the private key, used automatically)`;
  const report = (fatal: boolean, message: string) => (fatal && explicit ? out.errors : out.warnings).push({ file, path: at, message: `${what}: ${message}` });
  let text: string;
  try {
    text = readFile(path).toString("utf8");
  } catch (e) {
    if (explicit) report(true, `cannot read it: ${errnoText(e)}`);
    return;
  }
  let cert;
  try {
    cert = parseCertificateText(text);
  } catch (e) {
    report(true, (e as Error).message);
    return;
  }
  let publicKey = cert.key;
  if (auth.privateKeyFile !== undefined) {
    const key = publicKeyOf(auth, readFile);
    if (key) publicKey = key;
    else report(false, `cannot compare it with ${auth.privateKeyFile}: neither the key (passphrase?) nor ${auth.privateKeyFile}.pub could be read`);
  }
  for (const problem of checkUserCertificate(cert, publicKey, now)) report(!TIME_PROBLEM.test(problem), problem);
}

/**
 * Checks the user certificate of every hop (guests and their hypervisors, each authentication
 * group once) against its private key.
 * @example checkCertificateFiles(loaded, readFileSync, new Date()).errors // [] when all is well
 */
export function checkCertificateFiles(loaded: LoadedConfig, readFile: ReadFile, now: Date): CertificateFileReport {
  const out: CertificateFileReport = { errors: [], warnings: [] };
  const file = loaded.file ?? "";
  const seen = new Set<string>();
  const hops = [
    ...(loaded.defaultHypervisor ? [loaded.defaultHypervisor] : []),
    ...loaded.guests.flatMap((g) => [g.hypervisor, g.hop]),
  ];
  for (const hop of hops) {
    const key = JSON.stringify([hop.auth.origin, hop.auth.privateKeyFile, hop.auth.certificateFile]);
    if (seen.has(key)) continue;
    seen.add(key);
    if ("local" in hop && hop.local) continue;
    checkHop(hop.auth, file, readFile, now, out);
  }
  return out;
}
