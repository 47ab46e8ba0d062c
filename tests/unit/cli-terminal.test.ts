// Colour and cursor control follow NO_COLOR, FORCE_COLOR, TERM=dumb and whether a terminal listens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { colourWanted, cursorControl } from "../../src/cli/terminal.ts";

const colourCases: Array<[string, Record<string, string>, boolean, boolean]> = [
  ["a terminal gets colour", {}, true, true],
  ["a pipe gets none", {}, false, false],
  ["NO_COLOR turns it off on a terminal", { NO_COLOR: "1" }, true, false],
  ["an empty NO_COLOR does not count (no-color.org)", { NO_COLOR: "" }, true, true],
  ["TERM=dumb turns it off", { TERM: "dumb" }, true, false],
  ["FORCE_COLOR turns it on in a pipe", { FORCE_COLOR: "1" }, false, true],
  ["FORCE_COLOR beats TERM=dumb", { FORCE_COLOR: "1", TERM: "dumb" }, true, true],
  ["FORCE_COLOR=0 turns it off on a terminal", { FORCE_COLOR: "0" }, true, false],
  ["an empty FORCE_COLOR is unset", { FORCE_COLOR: "" }, false, false],
  ["NO_COLOR beats FORCE_COLOR", { NO_COLOR: "1", FORCE_COLOR: "1" }, true, false],
];
for (const [name, env, tty, want] of colourCases) test(name, () => assert.equal(colourWanted(env, tty), want));

test("a dumb terminal gets no cursor control; NO_COLOR keeps it", () => {
  assert.equal(cursorControl({ TERM: "dumb" }, true), false);
  assert.equal(cursorControl({ NO_COLOR: "1", TERM: "xterm" }, true), true);
  assert.equal(cursorControl({}, false), false);
});
