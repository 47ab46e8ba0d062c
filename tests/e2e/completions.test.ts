// Completion scripts as the shells themselves read them: bash loads and registers its script,
// zsh and fish accept theirs, and the hidden helper lists the configured guest names.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, runCommand } from "./_cli.ts";

async function script(shell: string): Promise<string> {
  const r = await runCli(["completions", shell]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe("completions", () => {
  test("bash: the script passes bash -n and `complete -p ssh2vsock` shows it after sourcing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2v-compl-"));
    try {
      const file = join(dir, "ssh2vsock.bash");
      writeFileSync(file, await script("bash"));
      const syntax = await runCommand("bash", ["-n", file]);
      assert.equal(syntax.code, 0, syntax.stderr);
      const loaded = await runCommand("bash", ["-c", `source ${file} && complete -p ssh2vsock`]);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal(loaded.stdout.trim(), "complete -F _ssh2vsock ssh2vsock");
      // Completing `ssh2vsock proxy qemu` offers the libvirt forms.
      const words = await runCommand("bash", ["-c", `source ${file}; COMP_WORDS=(ssh2vsock proxy qemu); COMP_CWORD=2; _ssh2vsock; echo "\${COMPREPLY[*]}"`]);
      assert.equal(words.stdout.trim(), "qemu/ qemu-system/ qemu-session/");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const shell of ["zsh", "fish"]) {
    test(`${shell}: the script passes ${shell} -n`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "s2v-compl-"));
      try {
        const file = join(dir, `ssh2vsock.${shell}`);
        writeFileSync(file, await script(shell));
        const r = await runCommand(shell, ["-n", file]);
        assert.equal(r.code, 0, r.stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("the hidden helper prints the configured guest names, and nothing without a config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2v-compl-"));
    try {
      const cfg = join(dir, "c.toml");
      writeFileSync(cfg, `[hypervisor]\nlocal = true\n\n[guests.web1]\ncid = 3\nssh_ignore_host_key = true\nssh_use_agent = true\n\n[guests.db]\ncid = 4\nssh_ignore_host_key = true\nssh_use_agent = true\n`);
      const r = await runCli(["-c", cfg, "__complete-guests"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), ["web1", "db"]);
      const none = await runCli(["__complete-guests"], { cwd: dir, env: { HOME: dir, SSH2VSOCK_CONFIG: "", XDG_CONFIG_HOME: "" } });
      assert.equal(none.code, 0);
      assert.equal(none.stdout, "");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
