// `ssh2vsock proxy TARGET [PORT]`, for OpenSSH's ProxyCommand: stdin/stdout carry only the guest's
// SSH stream, guarded by the handshake inspector whenever the guest has a trust source.
import os from "node:os";
import type { Command } from "commander";
import { HostKeyError, UsageError } from "../core/errors.ts";
import { HypervisorPool } from "../core/tunnel/hypervisor-pool.ts";
import { guestPolicy, openGuestRelay } from "../core/tunnel/guest-session.ts";
import { spliceToGuest } from "../core/tunnel/splice-path.ts";
import { endOf, endsOf, joinEnds, type StreamEnds } from "../core/handshake/splice.ts";
import type { GuestConfig } from "../core/config/types.ts";
import type { EngineIO } from "../core/engine-io.ts";
import type { HostKeyPolicy } from "../core/ssh/host-key-policy.ts";
import { cliContext, type GlobalOptions } from "./context.ts";
import { parsePort } from "./host-port.ts";
import { warnWeakened } from "./guarantees.ts";

export function registerProxy(program: Command, globals: () => GlobalOptions): void {
  program
    .command("proxy")
    .description("relay stdin/stdout to a guest's SSH port, verifying its host key (ProxyCommand ssh2vsock proxy %h %p)")
    .argument("<target>", "guest name or target (vsock/CID[:PORT], vsock%CID, …)")
    .argument("[port]", "the guest's SSH port for ad-hoc targets (OpenSSH's %p; a configured guest keeps its own)")
    .option("--port <n>", "guest vsock port when the target does not say (default 22)")
    .action(async (target: string, portArg: string | undefined, opts: { port?: string }) => {
      if (portArg !== undefined && opts.port !== undefined && portArg !== opts.port) {
        throw new UsageError(`the port is given twice (${portArg} and --port ${opts.port})`);
      }
      const port = portArg !== undefined ? parsePort(portArg, "PORT") : opts.port !== undefined ? parsePort(opts.port, "--port") : undefined;
      const ctx = cliContext(globals());
      const guest = ctx.resolve(target, { port });
      // ProxyCommand's stderr reaches the user's terminal: one line per weakened guarantee.
      warnWeakened(ctx, [guest], { listeners: false });
      const pool = new HypervisorPool(ctx.io);
      // OpenSSH ends a ProxyCommand with SIGHUP (or closes stdin); either ends the relay.
      let stop = () => {};
      for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) {
        process.once(sig, () => {
          stop();
          // Whatever still holds the process (a peer that never closes), a signal ends it:
          // a ProxyCommand left running after ssh is gone would hold its pipes forever.
          setTimeout(() => process.exit(128 + os.constants.signals[sig]), 2000).unref();
        });
      }
      const client: StreamEnds = { readable: process.stdin, writable: process.stdout };
      try {
        const configured = ctx.loaded.guests.some((g) => g.name === guest.name);
        const policy = await trustFor(guest, configured, ctx.io);
        if (!policy) {
          const relay = await openGuestRelay(guest, pool, ctx.io);
          stop = () => relay.kill();
          await Promise.race([joinEnds(client, endsOf(relay.stream)), endOf(relay.stream)]);
          return;
        }
        const splice = await spliceToGuest(client, guest, pool, ctx.io, policy);
        stop = () => splice.destroy();
        const outcome = await splice.decided;
        if (outcome.kind === "refused") throw outcome.error;
        await Promise.race([splice.done, splice.serverEnded]);
      } finally {
        process.stdin.pause();
        await pool.close();
      }
    });
}

/**
 * The guest's trust, or undefined when an ad-hoc target has none (no known_hosts entry, no
 * SSHFP): then only the outer client checks the guest, as `-v` says. A configured guest always
 * has a source, and one without any trusted key is refused (exit 3).
 */
async function trustFor(guest: GuestConfig, configured: boolean, io: EngineIO): Promise<HostKeyPolicy | undefined> {
  if (guest.hop.verification.ignoreHostKey) {
    io.log({ level: "info", event: "unverified", guest: guest.name, detail: "ssh_ignore_host_key: ssh2vsock does not check the guest's key; only the outer client does" });
    return undefined;
  }
  try {
    const policy = await guestPolicy(guest, io);
    for (const w of policy.warnings) io.log({ level: "warn", event: "known-hosts", guest: guest.name, detail: w });
    return policy;
  } catch (e) {
    if (configured || !(e instanceof HostKeyError) || e.code !== "no-trusted-key") throw e;
    io.log({ level: "info", event: "unverified", guest: guest.name, detail: `no trusted key for ${guest.hop.hostname} in any source: only the outer client checks the guest's host key` });
    return undefined;
  }
}
