// Shared pieces of the e2e tests: OpenSSH client arguments for the lab, config files written
// per test, and small file/hash helpers.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "../lab/lab.ts";
import { startCli } from "./_cli.ts";

/** Arguments for a real `ssh` into a lab guest through 127.0.0.1:PORT, verifying the guest's key. */
export function sshThroughTunnel(lab: Lab, port: number, guest: string, user = "root"): string[] {
  return [
    "-F", "/dev/null",
    "-p", String(port),
    "-i", lab.clientKey,
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", `UserKnownHostsFile=${lab.knownHostsFile}`,
    "-o", "StrictHostKeyChecking=yes",
    "-o", `HostKeyAlias=${guest}.lab.test`,
    `${user}@127.0.0.1`,
  ];
}

/** OpenSSH client options that make the lab's known_hosts the only trust and no agent or stray key take part. */
export function labTrustOptions(lab: Lab, connectTimeoutSeconds = 10): string[] {
  return [
    "-F", "/dev/null",
    "-o", `UserKnownHostsFile=${lab.knownHostsFile}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes",
    "-o", "IdentityAgent=none",
    "-o", "IdentitiesOnly=yes",
    "-o", `ConnectTimeout=${connectTimeoutSeconds}`,
  ];
}

/** Writes a TOML config into the lab directory and returns its path. */
export function writeConfig(lab: Lab, name: string, toml: string): string {
  const path = join(lab.dir, `${name}.toml`);
  writeFileSync(path, toml, { mode: 0o600 });
  return path;
}

/** `[hypervisor]` block for the lab with overridable lines. */
export function hypervisorBlock(lab: Lab, extra: Record<string, string> = {}): string {
  const lines: Record<string, string> = {
    hostname: `"127.0.0.1"`,
    port: String(lab.hypervisor.port),
    username: `"root"`,
    known_hosts_file: JSON.stringify(lab.knownHostsFile),
    ssh_private_key: JSON.stringify(lab.clientKey),
    ...extra,
  };
  return "[hypervisor]\n" + Object.entries(lines).filter(([, v]) => v !== "").map(([k, v]) => `${k} = ${v}`).join("\n") + "\n";
}

/** `[guests.NAME]` block for a lab guest with overridable lines ("" removes a line). */
export function guestBlock(lab: Lab, guest: string, extra: Record<string, string> = {}): string {
  const g = lab.guests.find((x) => x.name === guest)!;
  const lines: Record<string, string> = {
    cid: String(g.cid),
    hostname: JSON.stringify(`${guest}.lab.test`),
    port: "22",
    known_hosts_file: JSON.stringify(lab.knownHostsFile),
    ssh_private_key: JSON.stringify(lab.clientKey),
    ...extra,
  };
  return `[guests.${guest}]\n` + Object.entries(lines).filter(([, v]) => v !== "").map(([k, v]) => `${k} = ${v}`).join("\n") + "\n";
}

/** A known_hosts line for one of a lab host's public key files under `name`. */
export function knownHostsFor(name: string, pubFile: string, marker = ""): string {
  const [type, b64] = readFileSync(pubFile, "utf8").trim().split(/\s+/);
  return `${marker ? marker + " " : ""}${name} ${type} ${b64}`;
}

export function writeKnownHosts(lab: Lab, name: string, lines: string[]): string {
  const path = join(lab.dir, `${name}.known_hosts`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

export const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

/** SHA-256 fingerprint as ssh-keygen -l prints it, for a public key file. */
export function fingerprintOf(pubFile: string): string {
  const b64 = readFileSync(pubFile, "utf8").trim().split(/\s+/)[1];
  return "SHA256:" + createHash("sha256").update(Buffer.from(b64, "base64")).digest("base64").replace(/=+$/, "");
}

export function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Arguments for a real `ssh` that reaches a lab guest through `ProxyCommand <proxyCommand>`. */
export function sshViaProxy(lab: Lab, guestAlias: string, proxyCommand: string, destination: string): string[] {
  return [
    "-F", "/dev/null",
    "-i", lab.clientKey,
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", `UserKnownHostsFile=${lab.knownHostsFile}`,
    "-o", "StrictHostKeyChecking=yes",
    "-o", `HostKeyAlias=${guestAlias}.lab.test`,
    "-o", `ProxyCommand=${proxyCommand}`,
    destination,
  ];
}

/** Opens a tunnel: `ready` once it prints its line (then stops it), else its exit code and stderr. */
export async function tunnelOutcome(config: string, guest = "g1", extraArgs: string[] = []): Promise<{ ready: boolean; code?: number | null; stderr: string }> {
  const cli = startCli(["tunnel", "-c", config, ...extraArgs, guest]);
  try {
    await cli.lines(1, 30_000);
    await cli.stop();
    return { ready: true, stderr: cli.stderr() };
  } catch {
    const { code } = await cli.exited;
    return { ready: false, code, stderr: cli.stderr() };
  }
}

/**
 * A shell script for `ssh2vsock run` that sshes into guests g1…gN through their exported
 * tunnel ports and prints `gI NETNS` per guest (exits non-zero at the first failure).
 */
export function sshEveryGuestScript(lab: Lab, count: number): string {
  const ssh = sshThroughTunnel(lab, 0, "GUEST").map((a) => (a === "0" ? `"$port"` : a === "HostKeyAlias=GUEST.lab.test" ? `"HostKeyAlias=g$i.lab.test"` : `'${a}'`));
  return `for i in $(seq 1 ${count}); do eval port=\\$SSH2VSOCK_G\${i}_PORT; printf 'g%s ' "$i"; ssh ${ssh.join(" ")} 'ip netns identify' || exit 1; done`;
}

/** Parses what sshEveryGuestScript printed: guest name → the namespace it landed in. */
export function landedNamespaces(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split("\n").map((l) => l.split(" ")));
}
