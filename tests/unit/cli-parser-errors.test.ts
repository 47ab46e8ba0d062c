// Commander's failures become one usage line with a hint naming the command's --help; the log
// format is found even when the parser stopped before reading --log-format.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Command, CommanderError } from "commander";
import { logFormatIn, plainer, routeParserErrors, usageErrorFrom } from "../../src/cli/parser-errors.ts";
import { UsageError } from "../../src/core/errors.ts";

/** A small tree like ssh2vsock's: a command with an argument, one with choices. */
function tree(): Command {
  const program = new Command("ssh2vsock").option("--log-format <format>", "", "human");
  program.command("proxy").argument("<target>").action(() => {});
  const config = program.command("config");
  config.command("show").action(() => {});
  routeParserErrors(program);
  return program;
}

function failureOf(args: string[]): unknown {
  try {
    tree().parse(args, { from: "user" });
  } catch (e) {
    return e;
  }
  assert.fail(`parsing ${args.join(" ")} did not fail`);
}

describe("parser errors", () => {
  const cases = [
    { args: ["--bogus"], message: "unknown option '--bogus'", hint: "see ssh2vsock --help" },
    { args: ["bogus"], message: "unknown command 'bogus'", hint: "see ssh2vsock --help" },
    { args: ["proxy"], message: "proxy: missing required argument 'target'", hint: "see ssh2vsock proxy --help" },
    { args: ["config", "show", "--bogus"], message: "config show: unknown option '--bogus'", hint: "see ssh2vsock config show --help" },
  ];
  for (const c of cases) {
    test(`\`${c.args.join(" ")}\` is a usage error saying "${c.message}"`, () => {
      const e = failureOf(c.args);
      assert.ok(e instanceof CommanderError);
      const usage = usageErrorFrom(e);
      assert.ok(usage instanceof UsageError);
      assert.equal(usage.message, c.message);
      assert.equal(usage.hint, c.hint);
      assert.equal(usage.exitCode, 2);
    });
  }

  test("help and version are not errors", () => {
    assert.equal(usageErrorFrom(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)")), undefined);
    assert.equal(usageErrorFrom(new CommanderError(0, "commander.version", "0.1.0")), undefined);
    assert.equal(usageErrorFrom(new CommanderError(1, "commander.help", "(outputHelp)")), undefined);
  });

  test("commander's own error line is silenced (main prints the one line)", () => {
    const program = new Command("x");
    let written = "";
    program.configureOutput({ writeErr: (s) => (written += s) });
    routeParserErrors(program);
    assert.throws(() => program.parse(["--bogus"], { from: "user" }), CommanderError);
    assert.equal(written, "");
  });
});

describe("invalid choices in ssh2vsock's wording", () => {
  test("an option", () =>
    assert.equal(
      plainer("option '--log-format <format>' argument 'xml' is invalid. Allowed choices are human, json"),
      '--log-format: expected human or json, got "xml"',
    ));
  test("an argument", () =>
    assert.equal(
      plainer("command-argument value 'powershell' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish"),
      'shell: expected bash, zsh or fish, got "powershell"',
    ));
  test("anything else is left alone", () => assert.equal(plainer("unknown option '--x'"), "unknown option '--x'"));
});

describe("the log format of a failure", () => {
  const cases: Array<[string[], string | undefined, string]> = [
    [["--bogus", "--log-format", "json"], undefined, "json"],
    [["--bogus", "--log-format=json"], "human", "json"],
    [["--log-format", "json"], "json", "json"],
    [["tunnel"], "human", "human"],
    [["run", "--", "cmd", "--log-format", "json"], "human", "human"],
  ];
  for (const [argv, parsed, want] of cases) {
    test(`${argv.join(" ")} → ${want}`, () => assert.equal(logFormatIn(argv, parsed), want));
  }
});
