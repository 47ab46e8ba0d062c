// `ssh2vsock proxy TARGET`, for OpenSSH's ProxyCommand: stdin/stdout carry only the guest's SSH
// stream (the outer OpenSSH client verifies the guest); diagnostics go to stderr.
import type { Command } from "commander";
import { UsageError } from "../core/errors.ts";
import { HypervisorPool } from "../core/tunnel/hypervisor-pool.ts";
import { openGuestRelay } from "../core/tunnel/guest-session.ts";
import { cliContext, type GlobalOptions } from "./context.ts";

export function registerProxy(program: Command, globals: () => GlobalOptions): void {
  program
    .command("proxy")
    .description("relay stdin/stdout to a guest's SSH port (ProxyCommand ssh2vsock proxy %h)")
    .argument("<target>", "guest name or target (vsock/CID[:PORT], vsock%CID, …)")
    .option("--port <n>", "guest vsock port when the target does not say (default 22)")
    .action(async (target: string, opts: { port?: string }) => {
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 4294967295)) {
        throw new UsageError(`--port: expected a port number, got "${opts.port}"`);
      }
      const ctx = cliContext(globals());
      const guest = ctx.resolve(target, { port });
      const pool = new HypervisorPool(ctx.io);
      const relay = await openGuestRelay(guest, pool, ctx.io);
      // OpenSSH ends a ProxyCommand with SIGHUP (or closes stdin); either ends the relay.
      const stop = () => {
        relay.kill();
        void pool.close();
      };
      process.once("SIGHUP", stop);
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      await new Promise<void>((resolve) => {
        relay.stream.pipe(process.stdout);
        process.stdin.pipe(relay.stream);
        relay.stream.once("close", resolve);
        relay.stream.once("end", resolve);
        relay.stream.on("error", () => resolve());
      });
      process.stdin.unpipe(relay.stream);
      process.stdin.pause();
      await pool.close();
    });
}
