// Completion scripts come from the declared command tree: every visible command and option,
// targets and files where the tree says so, and nothing hidden.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildProgram } from "../../src/main.ts";
import { commandSpec, completionScript } from "../../src/cli/completions.ts";

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

test("each shell's script names every command and the target forms", () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const text = completionScript(buildProgram(), shell);
    for (const word of ["tunnel", "proxy", "ssh-config", "completions", "vsock/", "vsock-mux/", "unix/", "qemu:system/", "__complete-guests"]) {
      assert.ok(text.includes(word), `${shell}: ${word}`);
    }
  }
  assert.match(completionScript(buildProgram(), "bash"), /^complete -F _ssh2vsock ssh2vsock$/m);
  assert.match(completionScript(buildProgram(), "zsh"), /^#compdef ssh2vsock$/m);
});

test("an unknown shell is a usage error", () => {
  assert.throws(() => completionScript(buildProgram(), "tcsh"), (e: { exitCode?: number }) => e.exitCode === 2);
});
