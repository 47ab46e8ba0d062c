// `ssh2vsock run [--guest TARGET]... -- COMMAND [ARG...]`: the container entrypoint. Opens every
// tunnel (all ready, or COMMAND never starts), runs COMMAND with SSH2VSOCK_<NAME>_HOST/PORT set,
// relays signals to it, closes the tunnels and exits with its status (128+N when a signal ended it).
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { Ssh2vsockError, UsageError } from "../core/errors.ts";
import { shutdownGraceMs } from "../core/tunnel/hop-timing.ts";
import { HypervisorPool } from "../core/tunnel/hypervisor-pool.ts";
import { tunnelEnv } from "../core/tunnel/env-names.ts";
import { cliContext, type GlobalOptions } from "./context.ts";
import { exitStatusOf, onSignals, stopBecauseOf } from "./signals.ts";
import { openTunnels } from "../core/tunnel/open-tunnels.ts";
import { applyTunnelOverrides, type Mode } from "../core/config/index.ts";
import { parseMode } from "./tunnel.ts";
import { warnWeakened } from "./guarantees.ts";

const RELAYED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function registerRun(program: Command, globals: () => GlobalOptions): void {
  program
    .command("run")
    .summary("open the tunnels, then run COMMAND with SSH2VSOCK_<NAME>_HOST/PORT set (container entrypoint)")
    .description(
      "open the tunnels (all configured guests unless --guest), then run COMMAND with " +
        "SSH2VSOCK_<NAME>_HOST and SSH2VSOCK_<NAME>_PORT set; exits with COMMAND's status",
    )
    .option("--guest <target>", "a guest to open (repeatable; default: every configured guest)", (v: string, all: string[] = []) => [...all, v])
    .option("--mode <mode>", "splice or forward, for every guest (default: each guest's configured mode)")
    .argument("<command...>", "the command and its arguments, after --")
    .action(async (command: string[], opts: { guest?: string[]; mode?: string }) => {
      const code = await runCommand(command, opts.guest ?? [], parseMode(opts.mode), globals());
      // Leave with the child's status once stderr/stdout are flushed (main would report 0).
      process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
      await new Promise(() => {});
    });
}

async function runCommand(command: string[], targets: string[], mode: Mode | undefined, globalOpts: GlobalOptions): Promise<number> {
  // Handlers first: as PID 1 an unhandled SIGTERM would be dropped by the kernel. Until the
  // command runs, a signal ends ssh2vsock promptly (the shell's 128+N), starting nothing.
  let child: ReturnType<typeof spawn> | undefined;
  let log: ReturnType<typeof cliContext>["io"]["log"] = () => {};
  const removeHandlers = onSignals(RELAYED, (sig) => {
    if (child) {
      log({ level: "info", event: "signal", detail: `${sig} relayed to the command (pid ${child.pid})` });
      // process.kill, not child.kill: Deno's ChildProcess then reports the kill signal instead of
      // the status the command actually exited with (a trap's `exit 5` would read as 143).
      try {
        process.kill(child.pid!, sig);
      } catch {
        // Already gone: its exit is on the way.
      }
      return;
    }
    stopBecauseOf(sig, "the command started");
  });
  try {
    const ctx = cliContext(globalOpts);
    log = ctx.io.log;
    const guests = (targets.length > 0 ? targets.map((t) => ctx.resolve(t)) : ctx.loaded.guests).map((g) => applyTunnelOverrides(g, { mode }));
    if (guests.length === 0) {
      throw new UsageError("run: no guest to open", { hint: "name one with --guest, or add [guests.NAME] to the config (-c FILE)" });
    }
    warnWeakened(ctx, guests, { listeners: true });
    const pool = new HypervisorPool(ctx.io);
    const tunnels = await openTunnels(guests, pool, ctx.io);
    const closeAll = async () => {
      // openTunnels returns the tunnels in the order of `guests`.
      await Promise.all(tunnels.map((t, i) => t.close(shutdownGraceMs(guests[i]!))));
      await pool.close();
    };
    let env: Record<string, string>;
    try {
      env = tunnelEnv(tunnels);
    } catch (e) {
      await closeAll();
      throw e;
    }
    for (const [k, v] of Object.entries(env)) log({ level: "info", event: "export", detail: `${k}=${v}` });

    const status = await new Promise<number>((resolve, reject) => {
      const c = spawn(command[0], command.slice(1), { stdio: "inherit", env: { ...process.env, ...env } });
      c.once("error", (e: NodeJS.ErrnoException) => {
        const code = e.code === "ENOENT" ? 127 : 126;
        reject(
          new Ssh2vsockError("spawn", code, `run: cannot start \`${command[0]}\`: ${e.code === "ENOENT" ? "command not found" : e.code === "EACCES" ? "permission denied (is it executable?)" : e.code ?? e.message}`, {
            hint: e.code === "ENOENT" ? "give the command after --, with its path if it is not on PATH" : undefined,
          }),
        );
      });
      c.once("spawn", () => {
        child = c;
        log({ level: "info", event: "command", detail: `started ${command[0]} (pid ${c.pid})` });
      });
      c.once("exit", (code, signal) => resolve(exitStatusOf(code, signal)));
    }).catch(async (e) => {
      await closeAll();
      throw e;
    });
    log({ level: "info", event: "command-exit", detail: `status ${status}` });
    await closeAll();
    return status;
  } finally {
    removeHandlers();
  }
}
