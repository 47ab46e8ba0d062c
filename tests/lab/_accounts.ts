// The lab's accounts, created once on the host with locked passwords: `s2vlab` gets a random
// password and `s2vguest` a lab-owned home, each per lab inside its guests only, so labs never collide.

import { chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, type LabTools } from "./_system.ts";

export const passwordUser = "s2vlab";

/**
 * The login of the tinysshd and dropbear guests. Both read ~/.ssh/authorized_keys from the real
 * file system (namespaces share it), so the key goes to a home the lab owns, never /root/.ssh.
 */
export const guestUser = "s2vguest";

/** Where each lab keeps its home for `s2vguest`: /var/lib/ssh2vsock-lab/lab-ID/s2vguest. */
export const guestHomes = "/var/lib/ssh2vsock-lab";

/** Creates the host account `s2vlab` if it is missing; safe when two labs race to create it. */
export function ensurePasswordUser(tools: LabTools): Promise<void> {
  return ensureUser(tools, passwordUser, ["-m", "-s", "/bin/bash", "-c", "ssh2vsock lab"]);
}

/**
 * Creates the host account `s2vguest` if it is missing. Its host home is never created: each
 * lab points it at its own home inside its guests (installGuestPasswd).
 */
export function ensureGuestUser(tools: LabTools): Promise<void> {
  const args = ["--system", "-M", "-d", join(guestHomes, guestUser), "-s", "/bin/sh", "-c", "ssh2vsock lab guest"];
  return ensureUser(tools, guestUser, args);
}

async function ensureUser(tools: LabTools, user: string, useraddArgs: string[]): Promise<void> {
  const exists = async () => (await run(tools.getent, ["passwd", user], { allowFailure: true })).code === 0;
  if (await exists()) return;
  const r = await run(tools.useradd, [...useraddArgs, user], { allowFailure: true });
  if (r.code !== 0 && !(await exists())) {
    throw new Error(`tests/lab: useradd ${user} failed: ${r.stderr.trim()}`);
  }
}

/** The directory holding lab `id`'s home for `s2vguest`, removed with the lab. */
export function guestHomesOf(id: string): string {
  return join(guestHomes, `lab-${id}`);
}

/**
 * Makes the home of `s2vguest` in `homes` (guestHomesOf) with `authorizedKeys` in ~/.ssh, owned by
 * the user and not group- or world-writable (dropbear checks), and returns its path.
 */
export async function makeGuestHome(tools: LabTools, homes: string, authorizedKeys: string): Promise<string> {
  const entry = (await run(tools.getent, ["passwd", guestUser])).stdout.trim().split(":");
  const [uid, gid] = [Number(entry[2]), Number(entry[3])];
  const home = join(homes, guestUser);
  await mkdir(guestHomes, { recursive: true, mode: 0o755 });
  await mkdir(homes, { mode: 0o755 });
  await mkdir(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  const keys = join(home, ".ssh", "authorized_keys");
  await writeFile(keys, authorizedKeys, { mode: 0o600 });
  await Promise.all([home, join(home, ".ssh"), keys].map((p) => chown(p, uid, gid)));
  return home;
}

/** Replaces the home directory of `user` in passwd(5) text. */
export function passwdWithHome(passwd: string, user: string, home: string): string {
  return passwd
    .split("\n")
    .map((line) => {
      const fields = line.split(":");
      if (fields[0] !== user || fields.length < 7) return line;
      fields[5] = home;
      return fields.join(":");
    })
    .join("\n");
}

/** Gives `s2vguest` the home `home` inside the namespaces `netnsNames` (see installGuestShadow). */
export async function installGuestPasswd(netnsNames: string[], home: string): Promise<void> {
  const passwd = passwdWithHome(await readFile("/etc/passwd", "utf8"), guestUser, home);
  if (!passwd.split("\n").some((l) => l.startsWith(`${guestUser}:`) && l.split(":")[5] === home)) {
    throw new Error(`tests/lab: ${guestUser} is not in /etc/passwd`);
  }
  await Promise.all(
    netnsNames.map(async (ns) => {
      const dir = join("/etc/netns", ns);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "passwd"), passwd, { mode: 0o644 });
    }),
  );
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
