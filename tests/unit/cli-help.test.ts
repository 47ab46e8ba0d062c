// Every --help reads the same way: no hand-wrapped lines (commander wraps to the terminal), no
// default said twice, the global options listed, and a pointer to the man page.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram } from "../../src/main.ts";

function everyCommand(c: Command): Command[] {
  return [c, ...c.commands.flatMap(everyCommand)];
}

const program = buildProgram();
const commands = everyCommand(program);

describe("help texts", () => {
  for (const c of commands) {
    const name = c === program ? "ssh2vsock" : c.name();
    test(`${name}: descriptions are single lines, wrapped by commander to the terminal's width`, () => {
      for (const text of [c.description(), c.summary(), ...c.options.map((o) => o.description), ...c.registeredArguments.map((a) => a.description)]) {
        assert.doesNotMatch(text ?? "", /\n/, `hand-wrapped: ${JSON.stringify(text)}`);
      }
    });
    test(`${name}: an option states its default once`, () => {
      for (const o of c.options) {
        if (o.defaultValue !== undefined) assert.doesNotMatch(o.description, /default/, `${o.flags} says its default and commander adds it again`);
      }
    });
    test(`${name}: --help lists the global options and points to ssh2vsock(1)`, () => {
      const help = c.helpInformation();
      if (c !== program) assert.match(help, /Global Options:[\s\S]*--log-format/);
      let all = "";
      c.configureOutput({ writeOut: (s) => (all += s), writeErr: (s) => (all += s) });
      c.outputHelp();
      assert.match(all, /ssh2vsock\(1\)/);
    });
  }
});
