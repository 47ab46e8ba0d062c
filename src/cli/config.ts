// `ssh2vsock config check|show`: validate the configuration (every problem at once), or print
// every guest as resolved after inheritance, secrets redacted.
import type { Command } from "commander";
import { redactedView } from "../core/config/index.ts";
import { cliContext, type GlobalOptions } from "./context.ts";

export function registerConfig(program: Command, globals: () => GlobalOptions): void {
  const config = program.command("config").description("check or show the configuration");
  config
    .command("check")
    .description("validate the configuration file; exits 2 listing every problem")
    .action(() => {
      const ctx = cliContext(globals());
      if (!ctx.loaded.file) {
        process.stdout.write("no configuration file found (ad-hoc targets use the local hypervisor)\n");
        return;
      }
      process.stdout.write(`${ctx.loaded.file}: ok (${ctx.loaded.guests.length} guest${ctx.loaded.guests.length === 1 ? "" : "s"})\n`);
    });
  config
    .command("show")
    .description("print each guest's resolved configuration (secrets redacted) as JSON")
    .action(() => {
      const ctx = cliContext(globals());
      const view = { file: ctx.loaded.file ?? null, guests: ctx.loaded.guests.map(redactedView) };
      process.stdout.write(JSON.stringify(view, null, 2) + "\n");
    });
}
