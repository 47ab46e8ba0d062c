// `ssh2vsock config check|show`: validate the configuration (every problem at once), or print
// it as resolved after inheritance, under the file's own names and units, secrets redacted.
import type { Command } from "commander";
import type { HypervisorConfig } from "../core/config/types.ts";
import { configView } from "../core/config/redact.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import { checkCertificateFiles } from "../core/ssh/user-certificate-check.ts";
import { readFileSync } from "node:fs";
import { cliContext, type CliContext, type GlobalOptions } from "./context.ts";
import { warnWeakened } from "./guarantees.ts";

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
      const certificates = checkCertificateFiles(ctx.loaded, (p) => readFileSync(p), new Date());
      if (certificates.errors.length > 0) {
        throw new ConfigError("invalid configuration", [...certificates.errors, ...certificates.warnings], {
          hint: "use the user certificate ssh-keygen -s made for this private key (ssh-keygen -L -f CERT shows it)",
        });
      }
      const { guests, defaultHypervisor } = ctx.loaded;
      const weak = warnWeakened(ctx, guests, { listeners: true, hypervisors: defaultHypervisor ? [defaultHypervisor] : [] });
      const said = weak.length > 0 ? `; ${weak.length} weakened guarantee${weak.length === 1 ? "" : "s"}, on stderr` : "";
      process.stdout.write(`${ctx.loaded.file}: ok (${guests.length} guest${guests.length === 1 ? "" : "s"}${said})\n`);
      for (const w of certificates.warnings) process.stdout.write(`warning: ${w.path}: ${w.message}\n`);
    });
  config
    .command("show")
    .description("print the resolved configuration as one JSON document: the file's attribute names and units, secrets redacted")
    .action(() => {
      const ctx = cliContext(globals());
      // Resolved as commands see them: --hypervisor replaces the default hypervisor here too.
      const guests = ctx.loaded.guests.map((g) => ctx.resolve(g.name));
      const view = configView(ctx.loaded.file, adHocHypervisor(ctx, globals().hypervisor !== undefined), guests);
      process.stdout.write(JSON.stringify(view, null, 2) + "\n");
    });
}

/**
 * The hypervisor an ad-hoc target (vsock/3) would go through; a [hypervisor] that only holds
 * defaults for its guests (no hostname) is shown as written, although ad-hoc targets then need
 * --hypervisor.
 */
function adHocHypervisor(ctx: CliContext, overridden: boolean): HypervisorConfig | undefined {
  try {
    const hv = ctx.resolve("vsock/3").hypervisor;
    // Nothing configured and no --hypervisor: the built-in local default, not a command-line one.
    return overridden || ctx.loaded.defaultHypervisor ? hv : { ...hv, name: "local" };
  } catch (e) {
    // With --hypervisor given, a usage error is about that argument (a password in it, say): it
    // must fail the command, not vanish into a view that silently leaves it out.
    if (e instanceof UsageError && !overridden) return ctx.loaded.defaultHypervisor;
    throw e;
  }
}
