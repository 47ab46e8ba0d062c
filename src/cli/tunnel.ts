// `ssh2vsock tunnel [TARGET...]`: one verified tunnel per target (every configured guest when
// none is named), a ready line each, then serve until SIGINT/SIGTERM.
import type { Command } from "commander";
import { UsageError } from "../core/errors.ts";
import type { GuestConfig } from "../core/config/types.ts";
import { shutdownGraceMs } from "../core/tunnel/hop-timing.ts";
import { HypervisorPool } from "../core/tunnel/hypervisor-pool.ts";
import { openTunnels } from "../core/tunnel/open-tunnels.ts";
import { applyTunnelOverrides, type Mode } from "../core/config/index.ts";
import { cliContext, type GlobalOptions } from "./context.ts";
import { nextSignal, stopBecauseOf } from "./signals.ts";
import { parseHostPort } from "./host-port.ts";
import { warnWeakened } from "./guarantees.ts";

interface TunnelOptions {
  listen?: string;
  target?: string;
  mode?: string;
  json?: boolean;
}

/** Resolves the named targets (or all configured guests), applying --listen/--target. */
export function tunnelGuests(ctx: ReturnType<typeof cliContext>, targets: string[], opts: TunnelOptions): GuestConfig[] {
  const guests = targets.length > 0 ? targets.map((t) => ctx.resolve(t)) : ctx.loaded.guests;
  if (guests.length === 0) {
    throw new UsageError("no target given and no guest configured", {
      hint: "name a target (a configured guest, vsock/CID, …) or add [guests.NAME] to the config",
    });
  }
  if (opts.listen && guests.length > 1 && parseHostPort(opts.listen, "--listen").port !== 0) {
    throw new UsageError("--listen with a fixed port needs exactly one target");
  }
  const mode = parseMode(opts.mode);
  const target = opts.target ? parseHostPort(opts.target, "--target") : undefined;
  return guests.map((g) => ({
    ...applyTunnelOverrides(g, { mode, target }),
    listen: opts.listen ? parseHostPort(opts.listen, "--listen") : g.listen,
  }));
}

/** `--mode`: splice or forward. */
export function parseMode(value: string | undefined): Mode | undefined {
  if (value === undefined || value === "splice" || value === "forward") return value;
  throw new UsageError(`--mode: expected "splice" or "forward", got "${value}"`);
}

export function registerTunnel(program: Command, globals: () => GlobalOptions): void {
  program
    .command("tunnel")
    .description("open a verified local TCP tunnel to each guest's SSH (all configured guests by default)")
    .argument("[targets...]", "guest names or targets (vsock/CID[:PORT], …)")
    .option("--listen <host:port>", "local address to listen on (default 127.0.0.1:0)")
    .option("--target <host:port>", "where the guest forwards each connection (default 127.0.0.1:22)")
    .option("--mode <mode>", "splice (the guest's SSH port, verified in the client's own handshake) or forward (ssh2vsock's own guest session)")
    .option("--json", "print one JSON object per ready tunnel")
    .action(async (targets: string[], opts: TunnelOptions) => {
      // Handlers before anything else: a SIGTERM that arrived just after the ready lines used to
      // find Bun's handler not yet in place and kill the process without a graceful shutdown.
      // Until every tunnel is ready a signal stops at once, as the default action would.
      let ready = false;
      const signalled = nextSignal(["SIGINT", "SIGTERM"]).then((sig) => {
        if (!ready) stopBecauseOf(sig, "the tunnels were ready");
        return sig;
      });
      const ctx = cliContext(globals());
      const guests = tunnelGuests(ctx, targets, opts);
      warnWeakened(ctx, guests, { listeners: true });
      const pool = new HypervisorPool(ctx.io);
      const tunnels = await openTunnels(guests, pool, ctx.io);
      ready = true;
      for (const t of tunnels) {
        const line = opts.json
          ? JSON.stringify({ name: t.guest, host: t.address.host, port: t.address.port, mode: t.mode })
          : `${t.guest} ${t.address.host}:${t.address.port}`;
        process.stdout.write(line + "\n");
      }
      const sig = await signalled;
      ctx.io.log({ level: "info", event: "shutdown", detail: sig });
      await Promise.all(tunnels.map((t, i) => t.close(sig === "SIGTERM" ? shutdownGraceMs(guests[i]) : 0)));
      await pool.close();
    });
}
