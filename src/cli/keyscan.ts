// `ssh2vsock keyscan TARGET`: the guest's host keys, fetched through the verified hypervisor
// and the relay, printed as known_hosts lines for the guest's hostname.
import type { Command } from "commander";
import { knownHostsLine } from "../core/hostkeys/index.ts";
import { OperationError } from "../core/errors.ts";
import { HypervisorPool } from "../core/tunnel/hypervisor-pool.ts";
import { openGuestRelay } from "../core/tunnel/guest-session.ts";
import { hopTiming } from "../core/tunnel/hop-timing.ts";
import { scanHostKeys } from "../core/ssh/keyscan.ts";
import { checkHostName } from "../core/hostname.ts";
import { cliContext, type GlobalOptions } from "./context.ts";
import { knownHostsJson } from "./known-hosts-json.ts";

export function registerKeyscan(program: Command, globals: () => GlobalOptions): void {
  program
    .command("keyscan")
    .summary("print a guest's host keys as known_hosts lines, fetched through the verified hypervisor")
    .description(
      "print a guest's host keys as known_hosts lines, fetched through the verified hypervisor. " +
        "Trust in these keys rests on the hypervisor (whose key IS verified) routing the vsock " +
        "connection to the right VM: use it to bootstrap, and compare fingerprints out of band when you can.",
    )
    .argument("<target>", "guest name or target (vsock/CID[:PORT], …)")
    .option("--hash", "hash the host names, as ssh-keygen -H")
    .option("--json", 'print one JSON array of {"host","type","key","fingerprint","line"}, one per host key')
    .action(async (target: string, opts: { hash?: boolean; json?: boolean }) => {
      const ctx = cliContext(globals());
      const guest = ctx.resolve(target);
      const host = guest.hop.hostname ?? guest.name;
      // Before connecting: the lines are written under this name, which must be one host.
      checkHostName(host, "host name", { port: true, target: true });
      const pool = new HypervisorPool(ctx.io);
      try {
        const keys = await scanHostKeys(
          async () => (await openGuestRelay(guest, pool, ctx.io)).stream,
          `guest ${guest.name}`,
          hopTiming(guest.hop).readyTimeoutMs,
        );
        if (keys.length === 0) throw new OperationError("keyscan", `guest ${guest.name}: the server presented no usable host key`);
        const lines = keys.map((k) => knownHostsLine(k, host, { port: guest.hop.port, hash: opts.hash }));
        if (opts.json) process.stdout.write(JSON.stringify(lines.map((l, i) => knownHostsJson(keys[i]!, l))) + "\n");
        else process.stdout.write(lines.join("\n") + "\n");
      } finally {
        await pool.close();
      }
    });
}
