// `ssh2vsock doctor [TARGET]`: runs the checks of src/core/doctor and prints them; on a terminal
// with spinners, a guest picker, and a yes/no question before an unknown host key is recorded.
import type { Writable } from "node:stream";
import readline from "node:readline/promises";
import type { Command } from "commander";
import * as clack from "@clack/prompts";
import pc from "picocolors";
import type { LoadedConfig } from "../core/config/types.ts";
import { ExitCode, OperationError, Ssh2vsockError, UsageError } from "../core/errors.ts";
import { nodeKnownHostsFs, runDoctor, type CheckResult, type DoctorDeps, type DoctorProgress, type TrustRequest } from "../core/doctor/index.ts";
import { describeTransport } from "../core/vsock/open-guest-stream.ts";
import { engineIO, loadConfiguration, resolveWith, type GlobalOptions } from "./context.ts";
import { colourWanted, cursorControl } from "./terminal.ts";

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
      const color = pc.createColors(colourWanted(env, ui.isTTY === true));
      // A dumb terminal gets no spinner and plain questions: no cursor codes at all.
      const redraw = interactive && cursorControl(env, ui.isTTY === true);
      const ask: Asker = redraw ? clackAsker(ui) : lineAsker(ui);
      let cached: LoadedConfig | undefined;
      const load = (): LoadedConfig =>
        (cached ??= loadConfiguration(g));

      if (target === undefined && interactive) target = await pickGuest(load, ask);

      const spin = redraw ? clack.spinner({ output: ui, withGuide: false }) : undefined;
      let current: string | undefined;
      // A target that names nothing is a usage error (exit 2) here as in every other command.
      let badTarget: UsageError | undefined;
      const deps: DoctorDeps = {
        io: engineIO(g),
        load,
        resolve: (t, loaded) => {
          try {
            return resolveWith(g, loaded, t);
          } catch (e) {
            if (e instanceof UsageError) badTarget = e;
            throw e;
          }
        },
      };
      if (interactive) {
        deps.knownHostsFs = nodeKnownHostsFs();
        deps.confirmTrust = async (req) => {
          spin?.clear();
          const ok = await askTrust(req, ui, color, ask);
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
      if (badTarget) throw badTarget;
      if (failed.length > 0) {
        throw new OperationError("doctor", `${failed.length} check${failed.length === 1 ? "" : "s"} failed (${failed.map((c) => c.id).join(", ")})`);
      }
      if (!opts.json) {
        const warned = report.checks.filter((c) => c.status === "warn").length;
        process.stdout.write(color.green(`all checks passed${warned ? ` (${warned} warning${warned === 1 ? "" : "s"})` : ""}`) + "\n");
      }
    });
}

/** The two questions doctor asks, by clack on a capable terminal or line by line on a dumb one. */
interface Asker {
  /** The value chosen, or undefined when the user cancelled. */
  select(message: string, options: { value: string; hint: string }[]): Promise<string | undefined>;
  confirm(message: string): Promise<boolean>;
}

function clackAsker(output: Writable): Asker {
  return {
    async select(message, options) {
      const choice = await clack.select({ message, options: options.map((o) => ({ ...o, label: o.value })), output, withGuide: false });
      return clack.isCancel(choice) ? undefined : choice;
    },
    async confirm(message) {
      return (await clack.confirm({ message, initialValue: false, output, withGuide: false })) === true;
    },
  };
}

// TERM=dumb: numbered choices and y/N typed on a line; nothing but text reaches the terminal.
function lineAsker(output: Writable): Asker {
  const line = async (question: string): Promise<string | undefined> => {
    const rl = readline.createInterface({ input: process.stdin, output, terminal: false });
    try {
      output.write(question);
      const answer = await new Promise<string | undefined>((resolve) => {
        rl.once("line", resolve);
        rl.once("close", () => resolve(undefined));
      });
      return answer?.trim();
    } finally {
      rl.close();
    }
  };
  return {
    async select(message, options) {
      output.write(`${message}\n${options.map((o, i) => `  ${i + 1}) ${o.value}  (${o.hint})`).join("\n")}\n`);
      const answer = await line(`number or name [1-${options.length}]: `);
      if (answer === undefined) return undefined;
      return options.find((o) => o.value === answer)?.value ?? options[Number(answer) - 1]?.value;
    },
    async confirm(message) {
      return /^y(es)?$/i.test((await line(`${message} [y/N] `)) ?? "");
    },
  };
}

/** Lets the user choose among several configured guests; undefined leaves the choice to the runner. */
async function pickGuest(load: () => LoadedConfig, ask: Asker): Promise<string | undefined> {
  let loaded: LoadedConfig;
  try {
    loaded = load();
  } catch {
    return undefined; // the config check reports it
  }
  if (loaded.guests.length < 2) return undefined;
  const choice = await ask.select(
    "Which guest should doctor check?",
    loaded.guests.map((gc) => ({ value: gc.name, hint: describeTransport(gc.transport) })),
  );
  if (choice === undefined) throw new Ssh2vsockError("interrupted", ExitCode.interrupted, "doctor: no guest chosen");
  return choice;
}

/** Shows the presented key and asks; only an explicit yes trusts it. */
async function askTrust(req: TrustRequest, output: Writable, color: Colors, ask: Asker): Promise<boolean> {
  output.write(
    [
      `${color.yellow("▲")} The ${req.label} presented a host key that nothing trusts yet:`,
      `    ${req.keyType} ${color.bold(req.fingerprint)}`,
      `  Compare it with the fingerprint printed on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub).`,
      "",
    ].join("\n") + "\n",
  );
  return ask.confirm(`Trust this key and add it (hashed, as ${req.knownHostsName}) to ${req.file}?`);
}
