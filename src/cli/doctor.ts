// `ssh2vsock doctor [TARGET]`: runs the checks of src/core/doctor and prints them; on a terminal
// with spinners, a guest picker, and a yes/no question before an unknown host key is recorded.
import type { Writable } from "node:stream";
import type { Command } from "commander";
import * as clack from "@clack/prompts";
import pc from "picocolors";
import type { LoadedConfig } from "../core/config/types.ts";
import { ExitCode, OperationError, Ssh2vsockError } from "../core/errors.ts";
import { nodeKnownHostsFs, runDoctor, type CheckResult, type DoctorDeps, type DoctorProgress, type TrustRequest } from "../core/doctor/index.ts";
import { describeTransport } from "../core/vsock/open-guest-stream.ts";
import { engineIO, loadConfiguration, resolveWith, type GlobalOptions } from "./context.ts";

interface DoctorOptions {
  json?: boolean;
  /** commander turns `--no-input` into `input: false`. */
  input?: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

const MARK = { pass: "✔", warn: "▲", fail: "✖", skip: "–" } as const;

/** One check as human text: status line, detail, hint. */
export function formatCheck(c: CheckResult, color: Colors): string {
  const paint = { pass: color.green, warn: color.yellow, fail: color.red, skip: color.dim }[c.status];
  const lines = [`${paint(`${MARK[c.status]} ${c.status.toUpperCase().padEnd(4)}`)} ${color.bold(c.title)}`, `       ${c.detail}`];
  if (c.hint) lines.push(`       ${color.cyan("hint:")} ${c.hint}`);
  return lines.join("\n") + "\n";
}

export function registerDoctor(program: Command, globals: () => GlobalOptions): void {
  program
    .command("doctor")
    .description("check every hop to a guest, in order, and say what to fix (interactive on a terminal)")
    .argument("[target]", "guest name or target (default: the only configured guest, or pick one)")
    .option("--json", "print the report as one JSON document")
    .option("--no-input", "never prompt (an unknown host key is a failure)")
    .action(async (target: string | undefined, opts: DoctorOptions) => {
      const g = globals();
      const env = process.env as Record<string, string | undefined>;
      // The UI goes where the report does not: stderr when stdout carries JSON.
      const ui: Writable & { isTTY?: boolean } = opts.json ? process.stderr : process.stdout;
      const interactive = opts.input !== false && process.stdin.isTTY === true && ui.isTTY === true;
      const color = pc.createColors(ui.isTTY === true && !env.NO_COLOR);
      let cached: LoadedConfig | undefined;
      const load = (): LoadedConfig =>
        (cached ??= loadConfiguration(g));

      if (target === undefined && interactive) target = await pickGuest(load, ui);

      const spin = interactive ? clack.spinner({ output: ui, withGuide: false }) : undefined;
      let current: string | undefined;
      const deps: DoctorDeps = {
        io: engineIO(g),
        load,
        resolve: (t, loaded) => resolveWith(g, loaded, t),
      };
      if (interactive) {
        deps.knownHostsFs = nodeKnownHostsFs();
        deps.confirmTrust = async (req) => {
          spin?.clear();
          const ok = await askTrust(req, ui, color);
          if (current) spin?.start(current);
          return ok;
        };
      }
      const onProgress = (p: DoctorProgress) => {
        if (p.kind === "start") {
          current = p.title;
          spin?.start(p.title);
          return;
        }
        if (spin && current !== undefined) spin.clear();
        current = undefined;
        if (!opts.json) process.stdout.write(formatCheck(p.result, color));
      };

      const report = await runDoctor(target, deps, onProgress);
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      const failed = report.checks.filter((c) => c.status === "fail");
      if (failed.length > 0) {
        throw new OperationError("doctor", `${failed.length} check${failed.length === 1 ? "" : "s"} failed (${failed.map((c) => c.id).join(", ")})`);
      }
      if (!opts.json) {
        const warned = report.checks.filter((c) => c.status === "warn").length;
        process.stdout.write(color.green(`all checks passed${warned ? ` (${warned} warning${warned === 1 ? "" : "s"})` : ""}`) + "\n");
      }
    });
}

/** Lets the user choose among several configured guests; undefined leaves the choice to the runner. */
async function pickGuest(load: () => LoadedConfig, output: Writable): Promise<string | undefined> {
  let loaded: LoadedConfig;
  try {
    loaded = load();
  } catch {
    return undefined; // the config check reports it
  }
  if (loaded.guests.length < 2) return undefined;
  const choice = await clack.select({
    message: "Which guest should doctor check?",
    options: loaded.guests.map((gc) => ({ value: gc.name, label: gc.name, hint: describeTransport(gc.transport) })),
    output,
    withGuide: false,
  });
  if (clack.isCancel(choice)) throw new Ssh2vsockError("interrupted", ExitCode.interrupted, "doctor: no guest chosen");
  return choice;
}

/** Shows the presented key and asks; only an explicit yes trusts it. */
async function askTrust(req: TrustRequest, output: Writable, color: Colors): Promise<boolean> {
  output.write(
    [
      `${color.yellow("▲")} The ${req.label} presented a host key that nothing trusts yet:`,
      `    ${req.keyType} ${color.bold(req.fingerprint)}`,
      `  Compare it with the fingerprint printed on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).`,
      "",
    ].join("\n") + "\n",
  );
  const answer = await clack.confirm({
    message: `Trust this key and add it (hashed, as ${req.knownHostsName}) to ${req.file}?`,
    initialValue: false,
    output,
    withGuide: false,
  });
  return answer === true;
}
