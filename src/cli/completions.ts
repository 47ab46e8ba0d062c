// `ssh2vsock completions bash|zsh|fish`: completion scripts generated from the declared command
// tree, plus the hidden helper they call to complete the configured guest names.
import { Argument, type Command, type Option } from "commander";
import { guestNames } from "../core/config/index.ts";
import { MODES } from "../core/config/mode.ts";
import { UsageError } from "../core/errors.ts";
import { cliContext, type GlobalOptions } from "./context.ts";
import {
  bashCompletion,
  fishCompletion,
  GUESTS_HELPER,
  zshCompletion,
  type CommandSpec,
  type OptionSpec,
  type ValueKind,
} from "./completion-scripts.ts";

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

function optionValue(o: Option): ValueKind {
  if (!o.required && !o.optional) return "none";
  if (o.argChoices) return { choices: [...o.argChoices] };
  // tunnel's and run's --mode check their value themselves (one message for both) rather than
  // declaring choices to the parser: the values are the config's.
  if (/<mode>/.test(o.flags)) return { choices: [...MODES] };
  if (/<file/.test(o.flags)) return "file";
  if (/<target/.test(o.flags)) return "target";
  return "word";
}

function argsValue(c: Command): ValueKind {
  const args = c.registeredArguments;
  if (args.some((a) => /target/.test(a.name()))) return "target";
  const choices = args[0]?.argChoices;
  if (choices) return { choices: [...choices] };
  if (args.some((a) => /file/.test(a.name()))) return "file";
  return "none";
}

const isHidden = (c: Command): boolean => (c as unknown as { _hidden?: boolean })._hidden === true;

/**
 * The completion description of a commander command tree (hidden commands and options left out).
 * @example commandSpec(buildProgram()).subcommands.map((c) => c.name) // ["tunnel", "proxy", …]
 */
export function commandSpec(c: Command): CommandSpec {
  const options: OptionSpec[] = c.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const spec: OptionSpec = { value: optionValue(o), description: o.description };
      if (o.long) spec.long = o.long;
      if (o.short) spec.short = o.short;
      return spec;
    });
  options.push({ long: "--help", short: "-h", value: "none", description: "show help" });
  return {
    name: c.name(),
    description: c.summary() || c.description(),
    options,
    args: argsValue(c),
    subcommands: c.commands.filter((s) => !isHidden(s)).map(commandSpec),
  };
}

/** The completion script for `shell`, from the command tree `program`. */
export function completionScript(program: Command, shell: string): string {
  const generate = SHELLS[shell as keyof typeof SHELLS];
  if (!generate) throw new UsageError(`completions: unknown shell "${shell}"`, { hint: "use bash, zsh or fish" });
  return generate(commandSpec(program));
}

export function registerCompletions(program: Command, globals: () => GlobalOptions): void {
  program
    .command("completions")
    .description("print a shell completion script (bash: source <(ssh2vsock completions bash))")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(Object.keys(SHELLS)))
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
  program
    .command(GUESTS_HELPER, { hidden: true })
    .description("print the configured guest names, one per line (for completion scripts)")
    .action(() => {
      // Completion must never print errors into the user's prompt: no config, no names.
      let names: string[] = [];
      try {
        names = guestNames(cliContext(globals()).loaded);
      } catch {
        names = [];
      }
      if (names.length > 0) process.stdout.write(names.join("\n") + "\n");
    });
}
