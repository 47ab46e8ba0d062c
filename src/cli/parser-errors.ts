// Turns commander's own failures (unknown option or command, missing or invalid argument) into
// a UsageError (exit 2): one `ssh2vsock: …` line and a hint pointing to --help, not the whole help.
import { CommanderError, type Command } from "commander";
import { UsageError } from "../core/errors.ts";

/** Which command each parser error came from, so the hint names its --help. */
const origin = new WeakMap<CommanderError, Command>();

/**
 * Makes every command of the tree throw instead of exiting, and silences commander's own
 * `error: …` line: src/main.ts prints the error once, in the chosen log format.
 */
export function routeParserErrors(program: Command): void {
  const visit = (c: Command): void => {
    c.exitOverride((err) => {
      origin.set(err, c);
      throw err;
    });
    c.configureOutput({ outputError: () => {} });
    c.commands.forEach(visit);
  };
  visit(program);
}

/** `ssh2vsock config show`: a command's full name, for messages and hints. */
export function commandPath(c: Command): string {
  const names: string[] = [];
  for (let at: Command | null = c; at; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

/**
 * The usage error for a commander failure, or undefined when commander has already said
 * everything (help or version shown, exit 0; help shown for a command given no subcommand).
 * @example usageErrorFrom(new CommanderError(1, "commander.unknownOption", "error: unknown option '--bogus'"))?.message // "unknown option '--bogus'"
 */
export function usageErrorFrom(err: CommanderError): UsageError | undefined {
  if (err.exitCode === 0 || err.code === "commander.help" || err.code === "commander.helpDisplayed") return undefined;
  const command = origin.get(err);
  const path = command ? commandPath(command) : "ssh2vsock";
  // "ssh2vsock proxy: missing required argument 'target'": say which command refused what.
  const where = path.includes(" ") ? `${path.slice(path.indexOf(" ") + 1)}: ` : "";
  const why = plainer(err.message.replace(/^error: /, "").replace(/\.$/, ""));
  return new UsageError(`${where}${why}`, { hint: `see ${path} --help` });
}

/**
 * Commander's invalid-choice sentences, in the wording of ssh2vsock's own option checks.
 * @example plainer("option '--log-format <format>' argument 'xml' is invalid. Allowed choices are human, json") // '--log-format: expected human or json, got "xml"'
 */
export function plainer(message: string): string {
  const expected = (list: string) => list.replace(/, ([^,]*)$/, " or $1");
  const option = /^option '(-[^ ',]+)[^']*' argument '(.*)' is invalid\. Allowed choices are (.*)$/.exec(message);
  if (option) return `${option[1]}: expected ${expected(option[3]!)}, got "${option[2]}"`;
  const arg = /^command-argument value '(.*)' is invalid for argument '([^']+)'\. Allowed choices are (.*)$/.exec(message);
  if (arg) return `${arg[2]}: expected ${expected(arg[3]!)}, got "${arg[1]}"`;
  return message;
}

/**
 * The log format for reporting a failure, even one that stopped the parser before it read
 * `--log-format` (commander stops at the first unknown option).
 * @example logFormatIn(["node", "main", "--bogus", "--log-format=json"], undefined) // "json"
 */
export function logFormatIn(argv: readonly string[], parsed: string | undefined): string {
  if (parsed !== undefined && parsed !== "human") return parsed;
  let found = parsed ?? "human";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--log-format" && i + 1 < argv.length) found = argv[++i]!;
    else if (a.startsWith("--log-format=")) found = a.slice("--log-format=".length);
  }
  return found;
}
