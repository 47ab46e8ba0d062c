// The lab's password user. The account exists on the host (created once, password locked);
// each lab gives it its own random password inside its guests only, so labs never collide.

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, type LabTools } from "./_system.ts";

export const passwordUser = "s2vlab";

/** Creates the host account `s2vlab` if it is missing; safe when two labs race to create it. */
export async function ensurePasswordUser(tools: LabTools): Promise<void> {
  const exists = async () => (await run(tools.getent, ["passwd", passwordUser], { allowFailure: true })).code === 0;
  if (await exists()) return;
  const r = await run(tools.useradd, ["-m", "-s", "/bin/bash", "-c", "ssh2vsock lab", passwordUser], {
    allowFailure: true,
  });
  if (r.code !== 0 && !(await exists())) {
    throw new Error(`tests/lab: useradd ${passwordUser} failed: ${r.stderr.trim()}`);
  }
}

/** SHA-512 crypt hash of `password`, computed by openssl with the password on stdin. */
export async function cryptHash(tools: LabTools, password: string): Promise<string> {
  const r = await run(tools.openssl, ["passwd", "-6", "-stdin"], { input: `${password}\n` });
  return r.stdout.trim();
}

/**
 * Replaces the password field of `user` in shadow(5) text; appends an entry when absent.
 * A lastchg of 0 would force a password change, so a missing entry gets today's day number.
 */
export function shadowWithPassword(shadow: string, user: string, hash: string): string {
  const lines = shadow.split("\n");
  let found = false;
  const out = lines.map((line) => {
    const fields = line.split(":");
    if (fields[0] !== user) return line;
    found = true;
    fields[1] = hash;
    return fields.join(":");
  });
  if (!found) {
    const today = Math.floor(Date.now() / 86_400_000);
    if (out.length > 0 && out[out.length - 1] === "") out.pop();
    out.push(`${user}:${hash}:${today}:0:99999:7:::`, "");
  }
  return out.join("\n");
}

/**
 * Gives `s2vlab` the lab's password inside the namespaces `netnsNames`: `ip netns exec NS`
 * bind-mounts every file of /etc/netns/NS/ over /etc, so sshd there reads this shadow file.
 */
export async function installGuestShadow(netnsNames: string[], hash: string): Promise<void> {
  const shadow = shadowWithPassword(await readFile("/etc/shadow", "utf8"), passwordUser, hash);
  await Promise.all(
    netnsNames.map(async (ns) => {
      const dir = join("/etc/netns", ns);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "shadow"), shadow, { mode: 0o600 });
    }),
  );
}

/** Removes what installGuestShadow wrote for `ns`. */
export async function removeGuestShadow(ns: string): Promise<void> {
  await rm(join("/etc/netns", ns), { recursive: true, force: true });
}
