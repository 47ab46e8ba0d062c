// Completion scripts come from the declared command tree: every visible command and option,
// targets and files where the tree says so, and nothing hidden.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildProgram } from "../../src/main.ts";
import { commandSpec, completionScript } from "../../src/cli/completions.ts";
import { COLON_TARGET_PREFIXES, TARGET_PREFIXES } from "../../src/cli/completion-spec.ts";
import { parseAdHocTarget } from "../../src/core/config/target.ts";

const spec = commandSpec(buildProgram());
const sub = (name: string) => spec.subcommands.find((c) => c.name === name)!;

test("lists every visible command, and not the hidden guest-name helper", () => {
  const names = spec.subcommands.map((c) => c.name);
  for (const n of ["tunnel", "proxy", "config", "known-hosts", "sshfp", "keyscan", "ssh-config", "completions"]) assert.ok(names.includes(n), n);
  assert.ok(!names.some((n) => n.startsWith("__")), names.join(" "));
});

test("targets complete for proxy and tunnel, files for -c, choices for completions", () => {
  assert.equal(sub("proxy").args, "target");
  assert.equal(sub("tunnel").args, "target");
  assert.deepEqual(sub("completions").args, { choices: ["bash", "zsh", "fish"] });
  assert.equal(spec.options.find((o) => o.long === "--config")!.value, "file");
  assert.equal(spec.options.find((o) => o.long === "--verbose")!.value, "none");
  assert.deepEqual(sub("config").subcommands.map((c) => c.name).sort(), ["check", "show"]);
});

test("option values complete to the parser's choices: --log-format, and --mode to the config's modes", () => {
  assert.deepEqual(spec.options.find((o) => o.long === "--log-format")!.value, { choices: ["human", "json"] });
  for (const c of ["tunnel", "run"]) assert.deepEqual(sub(c).options.find((o) => o.long === "--mode")!.value, { choices: ["splice", "forward"] }, c);
});

test("every target form the parser accepts is offered, the colon spellings only after a typed colon", () => {
  assert.deepEqual(TARGET_PREFIXES, ["vsock/", "vsock-mux/", "unix/", "qemu/", "qemu-system/", "qemu-session/"]);
  assert.deepEqual(COLON_TARGET_PREFIXES, ["qemu:system/", "qemu:session/"]);
  for (const prefix of [...TARGET_PREFIXES, ...COLON_TARGET_PREFIXES]) {
    assert.ok(parseAdHocTarget(`${prefix}${prefix === "vsock/" ? "3" : "x"}`), prefix);
  }
});

test("each shell's script names every command and the target forms", () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    // zsh's _describe entries escape the colon that would end the name.
    const text = completionScript(buildProgram(), shell).replaceAll("\\:", ":");
    for (const word of ["tunnel", "proxy", "ssh-config", "completions", "vsock/", "vsock-mux/", "unix/", "qemu-system/", "qemu-session/", "qemu:session/", "__complete-guests"]) {
      assert.ok(text.includes(word), `${shell}: ${word}`);
    }
  }
  assert.match(completionScript(buildProgram(), "bash"), /^complete -F _ssh2vsock ssh2vsock$/m);
  assert.match(completionScript(buildProgram(), "zsh"), /^#compdef ssh2vsock$/m);
});

test("an unknown shell is a usage error", () => {
  assert.throws(() => completionScript(buildProgram(), "tcsh"), (e: { exitCode?: number }) => e.exitCode === 2);
});
