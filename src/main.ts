// Entry point: builds the command tree, runs it, and maps every error to its exit code and
// the one-line `ssh2vsock: …` message (+ `hint:`) of DESIGN.md. Nothing else lives here.
import { Command, CommanderError, Option } from "commander";
import pkg from "../package.json" with { type: "json" };
import { ConfigError, ExitCode, Ssh2vsockError } from "./core/errors.ts";
import type { GlobalOptions } from "./cli/context.ts";
import { registerTunnel } from "./cli/tunnel.ts";
import { registerProxy } from "./cli/proxy.ts";
import { registerConfig } from "./cli/config.ts";
import { registerGenerators } from "./cli/generators.ts";
import { registerKeyscan } from "./cli/keyscan.ts";
import { registerRun } from "./cli/run.ts";
import { registerDoctor } from "./cli/doctor.ts";
import { registerSshConfig } from "./cli/ssh-config.ts";
import { registerCompletions } from "./cli/completions.ts";
import { applyRuntimeTuning } from "./cli/runtime-tuning.ts";
import { logFormatIn, routeParserErrors, usageErrorFrom } from "./cli/parser-errors.ts";
import { versionLine } from "./cli/version.ts";

/**
 * Builds the declared command tree: the source of completion scripts and the man page too.
 * @example buildProgram().commands.map((c) => c.name()) // ["tunnel", "proxy", …]
 */
export function buildProgram(): Command {
  const program = new Command("ssh2vsock")
    .description("verified SSH into virtual machines through their hypervisor's vsock")
    // Inherited by every subcommand created below: its --help lists the global options too.
    .configureHelp({ showGlobalOptions: true })
    .option("-V, --version", "print the version, the runtime and the commit")
    .option("-c, --config <file>", "configuration file (default: search path)")
    .option("--hypervisor <spec>", "default hypervisor: local, [USER@]HOST[:PORT], ssh://… or qemu+ssh://…")
    .option("-v, --verbose", "more detail on stderr (-vv for protocol traces)", (_v: string, n: number) => n + 1, 0)
    .addOption(new Option("--log-format <format>", "diagnostics on stderr as human lines or JSON Lines").choices(["human", "json"]).default("human"))
    .addHelpText("afterAll", "\nTargets, configuration keys, files, environment and exit codes: see ssh2vsock(1).");
  // The version line asks git when run from source: only pay for it when --version is given.
  program.on("option:version", () => {
    process.stdout.write(versionLine(pkg.version) + "\n");
    throw new CommanderError(0, "commander.version", pkg.version);
  });
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  registerTunnel(program, globals);
  registerProxy(program, globals);
  registerConfig(program, globals);
  registerGenerators(program);
  registerKeyscan(program, globals);
  registerRun(program, globals);
  registerDoctor(program, globals);
  registerSshConfig(program, globals);
  registerCompletions(program, globals);
  routeParserErrors(program);
  return program;
}

function report(err: unknown, format: string): number {
  if (err instanceof CommanderError) {
    // Help and version end with a CommanderError too (exit 0); a parser error is a usage error.
    const usage = usageErrorFrom(err);
    if (!usage) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    err = usage;
  }
  const known = err instanceof Ssh2vsockError ? err : undefined;
  const message = known ? known.message : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  const details = known instanceof ConfigError ? known.problems.map(formatProblem) : [];
  if (format === "json") {
    // Log shippers read stderr line by line: the final error is one JSON object like the rest.
    // Same keys as every other log line; problems and the hint ride in `detail`.
    const detail = [message, ...details].join("; ") + (known?.hint ? ` (hint: ${known.hint})` : "");
    const line = { time: new Date().toISOString(), level: "error", event: known?.code ?? "unexpected", guest: null, hop: null, detail };
    process.stderr.write(JSON.stringify(line) + "\n");
  } else {
    const lines = [`ssh2vsock: ${message}`, ...details.map((d) => `  ${d}`)];
    if (known?.hint) lines.push(`hint: ${known.hint}`);
    process.stderr.write(lines.join("\n") + "\n");
  }
  if (!known && process.env.SSH2VSOCK_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
  return known ? known.exitCode : ExitCode.failure;
}

function formatProblem(p: ConfigError["problems"][number]): string {
  const at = p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ""}` : "";
  return `${p.file}${at}: ${p.path ? `${p.path}: ` : ""}${p.message}`;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    return report(err, logFormatIn(argv, program.opts<{ logFormat?: string }>().logFormat));
  }
}

if (import.meta.main) {
  // tunnel, proxy and run re-execute once with start-up-only allocator settings (same PID).
  applyRuntimeTuning();
  const code = await main(process.argv);
  // Flush stdout/stderr before leaving: a ProxyCommand's last bytes matter.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
