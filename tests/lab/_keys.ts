// Key material for the lab, generated fresh by ssh-keygen at start-up: host keys per sshd and
// the client keys (plain, passphrase-protected, PEM); known_hosts text is built from them.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./_system.ts";

/** Host key types as `ssh-keygen -t` names them. */
export type HostKeyType = "ed25519" | "ecdsa" | "rsa";

/** Generates host keys in `dir`; returns type -> public key path (private key: same path minus `.pub`). */
export async function generateHostKeys(
  sshKeygen: string,
  dir: string,
  types: HostKeyType[],
  comment: string,
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const entries = await Promise.all(
    types.map(async (type) => {
      const path = join(dir, `ssh_host_${type}_key`);
      const bits = type === "rsa" ? ["-b", "2048"] : [];
      await run(sshKeygen, ["-q", "-t", type, ...bits, "-N", "", "-C", comment, "-f", path]);
      return [type, `${path}.pub`] as const;
    }),
  );
  return Object.fromEntries(entries);
}

export interface ClientKeys {
  clientKey: string;
  clientKeyEncrypted: string;
  clientKeyPem: string;
}

/**
 * Generates the three client keys in `dir`. The passphrase reaches ssh-keygen through an
 * askpass script that reads a 0600 file, so it never appears in any argv.
 */
export async function generateClientKeys(
  sshKeygen: string,
  dir: string,
  passphrase: string,
): Promise<ClientKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretFile = join(dir, ".passphrase");
  const askpass = join(dir, ".askpass");
  await writeFile(secretFile, `${passphrase}\n`, { mode: 0o600 });
  await writeFile(askpass, `#!/bin/sh\nexec cat '${secretFile}'\n`, { mode: 0o700 });

  const clientKey = join(dir, "id_ed25519");
  const clientKeyEncrypted = join(dir, "id_ed25519_encrypted");
  const clientKeyPem = join(dir, "id_rsa_pem");
  const askpassEnv = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force" };
  await Promise.all([
    run(sshKeygen, ["-q", "-t", "ed25519", "-N", "", "-C", "lab-client", "-f", clientKey]),
    // Without -N, ssh-keygen asks (twice) for the new passphrase: askpass answers.
    run(sshKeygen, ["-q", "-t", "ed25519", "-C", "lab-client-encrypted", "-f", clientKeyEncrypted], {
      env: askpassEnv,
    }),
    run(sshKeygen, ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-C", "lab-client-pem", "-f", clientKeyPem]),
  ]);
  return { clientKey, clientKeyEncrypted, clientKeyPem };
}

/** `type base64` of an OpenSSH public key file (the comment dropped). */
export async function publicKeyOf(pubFile: string): Promise<string> {
  const [type, blob] = (await readFile(pubFile, "utf8")).trim().split(/\s+/);
  if (!type || !blob) throw new Error(`tests/lab: unreadable public key ${pubFile}`);
  return `${type} ${blob}`;
}

/** known_hosts lines naming `host` (already in `[host]:port` form if needed) for each key file. */
export async function knownHostsLines(host: string, pubFiles: string[]): Promise<string[]> {
  return Promise.all(pubFiles.map(async (f) => `${host} ${await publicKeyOf(f)}`));
}
