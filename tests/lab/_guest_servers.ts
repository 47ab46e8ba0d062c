// The guests' non-OpenSSH servers: tinysshd (inetd-style, one process per connection behind
// socat) and dropbear (foreground daemon), with their own host key tools and log files.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NetnsDaemon } from "./_daemon.ts";
import { run, type LabTools, type ServerTools } from "./_system.ts";

/** tinysshd's only host key type; returns type -> OpenSSH-format .pub path, as generateHostKeys does. */
export async function tinysshdHostKeys(tools: ServerTools, dir: string, comment: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  // tinysshd-makekey creates the directory itself and refuses one that exists.
  await run(tools.tinysshdMakekey!, ["-q", keyDir(dir)]);
  const printed = (await run(tools.tinysshdPrintkey!, [keyDir(dir)])).stdout;
  const line = printed.split("\n").find((l) => l.startsWith("ssh-ed25519 "));
  if (!line) throw new Error(`tests/lab: tinysshd-printkey printed no ssh-ed25519 key for ${dir}`);
  const pub = join(dir, "tinysshd_ed25519.pub");
  await writeFile(pub, `${line.trim().split(/\s+/).slice(0, 2).join(" ")} ${comment}\n`);
  return { ed25519: pub };
}

/**
 * socat accepts on the namespace's 127.0.0.1:22 and runs one tinysshd per connection, as inetd
 * would; the wrapper hands tinysshd the peer address under the names ucspi-tcp uses, so its
 * log says where a connection came from. tinysshd's -v lines go to socat's stderr: the log.
 */
export async function tinysshdDaemon(tools: LabTools, servers: ServerTools, dir: string, netns: string): Promise<NetnsDaemon> {
  const wrapper = join(dir, "tinysshd-inetd");
  await writeFile(
    wrapper,
    [
      "#!/bin/sh",
      "# ssh2vsock lab: one tinysshd for the connection socat accepted (tests/lab/_guest_servers.ts)",
      'TCPREMOTEIP="$SOCAT_PEERADDR" TCPREMOTEPORT="$SOCAT_PEERPORT" TCPLOCALIP=127.0.0.1 TCPLOCALPORT=22',
      "export TCPREMOTEIP TCPREMOTEPORT TCPLOCALIP TCPLOCALPORT",
      `exec ${shellQuote(servers.tinysshd!)} -v ${shellQuote(keyDir(dir))}`,
      "",
    ].join("\n"),
    { mode: 0o700 },
  );
  return new NetnsDaemon(tools, {
    label: "tinysshd",
    netns,
    argv: [tools.socat, "TCP-LISTEN:22,bind=127.0.0.1,reuseaddr,fork", `EXEC:${socatSafe(wrapper)}`],
    port: 22,
    log: join(dir, "tinysshd.log"),
  });
}

const dropbearTypes = [
  ["ed25519", []],
  ["ecdsa", ["-s", "256"]],
  ["rsa", ["-s", "2048"]],
] as const;

/** dropbear's host keys (its own format); returns type -> OpenSSH-format .pub path. */
export async function dropbearHostKeys(tools: ServerTools, dir: string, comment: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const entries = await Promise.all(
    dropbearTypes.map(async ([type, size]) => {
      const key = join(dir, `dropbear_${type}_host_key`);
      await run(tools.dropbearkey!, ["-t", type, ...size, "-f", key]);
      // `-y` prints "Public key portion is:", the OpenSSH line (comment root@HOST), a fingerprint.
      const printed = (await run(tools.dropbearkey!, ["-y", "-f", key])).stdout;
      const line = printed.split("\n").find((l) => /^(ssh-|ecdsa-sha2-)\S+ \S+/.test(l));
      if (!line) throw new Error(`tests/lab: dropbearkey -y printed no public key for ${key}`);
      await writeFile(`${key}.pub`, `${line.split(" ").slice(0, 2).join(" ")} ${comment}\n`);
      return [type, `${key}.pub`] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** dropbear in the foreground on 127.0.0.1:22 of `netns`, logging to stderr (-E), pid file in `dir`. */
export function dropbearDaemon(tools: LabTools, servers: ServerTools, dir: string, netns: string, pubFiles: string[]): NetnsDaemon {
  return new NetnsDaemon(tools, {
    label: "dropbear",
    netns,
    argv: [
      servers.dropbear!,
      "-F",
      "-E",
      "-P", // its default, /var/run/dropbear.pid, may be a system dropbear's
      join(dir, "dropbear.pid"),
      "-p",
      "127.0.0.1:22",
      ...pubFiles.flatMap((pub) => ["-r", pub.replace(/\.pub$/, "")]),
    ],
    port: 22,
    log: join(dir, "dropbear.log"),
  });
}

/** The guest's TCP service: `reply` (one plain line), then everything the client sends, echoed. */
export function serviceDaemon(tools: LabTools, dir: string, netns: string, port: number, reply: string): NetnsDaemon {
  if (!/^[\w .-]*\n$/.test(reply)) throw new Error(`tests/lab: service reply ${JSON.stringify(reply)} is not one plain line`);
  return new NetnsDaemon(tools, {
    label: `service on port ${port}`,
    netns,
    argv: [
      tools.socat,
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
      `SYSTEM:echo ${reply.trim()}; exec cat`,
    ],
    port,
    log: join(dir, "service.log"),
  });
}

function keyDir(dir: string): string {
  return join(dir, "tinysshd-keys");
}

/** socat splits addresses at `,` and `!!`, and treats quotes and backslashes specially. */
function socatSafe(path: string): string {
  if (!/^[\w/.+-]+$/.test(path)) throw new Error(`tests/lab: ${path} cannot be passed to socat as is`);
  return path;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
