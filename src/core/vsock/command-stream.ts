// Runs a command (socat, virsh) on the hypervisor, remote over the verified SSH session or
// local as a child process, and exposes it uniformly: a byte stream, its stderr and exit.
import { spawn } from "node:child_process";
import { Duplex } from "node:stream";
import type { ClientChannel } from "ssh2";
import { RelayError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { shellQuote } from "./shell-quote.ts";

/** A running command: stdin/stdout as one duplex stream, stderr collected for error messages. */
export interface CommandStream {
  stream: Duplex;
  /** stderr received so far (bounded), for error messages. */
  stderr(): string;
  /** Exit code (or null when killed by a signal); resolves when the command has ended. */
  exited: Promise<number | null>;
  /** Ends the command. */
  kill(): void;
}

/** Where commands run: on the hypervisor over SSH, or on this machine. */
export interface CommandRunner {
  /** `hypervisor 127.0.0.1:2222` or `local host`. */
  readonly where: string;
  /** True when commands run on this machine: Unix sockets are then opened directly. */
  readonly local?: boolean;
  run(argv: string[]): Promise<CommandStream>;
}

const STDERR_LIMIT = 8192;

/** Opens exec channels on a verified hypervisor session (an SshHop, or a pool of them). */
export interface ChannelOpener {
  readonly label: string;
  exec(command: string): Promise<ClientChannel>;
}

/** Runs commands over the hypervisor's verified session; argv is shell-quoted, never interpolated. */
export function remoteRunner(hop: ChannelOpener): CommandRunner {
  return {
    where: hop.label,
    local: false,
    async run(argv) {
      let ch: ClientChannel;
      try {
        ch = await hop.exec(argv.map(shellQuote).join(" "));
      } catch (e) {
        // A refused channel's text comes from the hypervisor's sshd.
        throw new RelayError(`${hop.label}: cannot start \`${argv[0]}\`: ${escapePeerText((e as Error).message)}`, {
          hint: "the hypervisor refused a new channel: check its sshd's MaxSessions and MaxStartups",
        });
      }
      let err = "";
      ch.stderr.on("data", (d: Buffer) => {
        if (err.length < STDERR_LIMIT) err += d.toString("utf8");
      });
      const exited = new Promise<number | null>((resolve) => {
        let code: number | null = null;
        ch.on("exit", (c: number | null) => (code = c));
        ch.on("close", () => resolve(code));
      });
      return { stream: ch, stderr: () => err, exited, kill: () => ch.close() };
    },
  };
}

/** Runs commands on this machine (local hypervisor mode). */
export function localRunner(): CommandRunner {
  return {
    where: "local host",
    local: true,
    run(argv) {
      return new Promise((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
        let err = "";
        child.stderr.on("data", (d: Buffer) => {
          if (err.length < STDERR_LIMIT) err += d.toString("utf8");
        });
        const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
        child.once("error", (e: NodeJS.ErrnoException) => {
          reject(
            new RelayError(`local host: cannot run \`${argv[0]}\`: ${e.code === "ENOENT" ? "not found" : e.message}`, {
              hint: e.code === "ENOENT" ? `install ${argv[0]} (Debian: apt-get install ${argv[0]})` : undefined,
              cause: e,
            }),
          );
        });
        child.once("spawn", () => {
          const stream = Duplex.from({ readable: child.stdout, writable: child.stdin } as never) as Duplex;
          // Killing the child makes the joined stream emit "Premature close" after its reader may
          // be gone; readers attach their own error listeners, so this one only prevents a crash.
          stream.on("error", () => {});
          child.stdin.on("error", () => {});
          resolve({ stream, stderr: () => err, exited, kill: () => child.kill("SIGTERM") });
        });
      });
    },
  };
}
