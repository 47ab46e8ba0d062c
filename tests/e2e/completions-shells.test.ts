// The completion scripts driven by the real shells, installed as README says: bash through its
// completion function, fish through `complete -C`, zsh and bash's readline through Tab in tmux.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliCommand, runCli, runCommand } from "./_cli.ts";

const GUEST = (name: string, cid: number) => `[guests.${name}]\ncid = ${cid}\nssh_ignore_host_key = true\nssh_use_agent = true\n`;
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

let dir = "";
let env: Record<string, string> = {};
let evilEnv: Record<string, string> = {};
/** Files that exist only if a shell ran a candidate as code. */
let markers: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "s2v-compl-shells-"));
  for (const d of ["bin", "evil", "xdg/ssh2vsock", "xdg/fish/completions", "zfunc", "zdot"]) mkdirSync(join(dir, d), { recursive: true });
  // The real binary on PATH as `ssh2vsock`, whatever SSH2VSOCK_CMD says it is.
  writeFileSync(join(dir, "bin/ssh2vsock"), `#!/bin/sh\nexec ${cliCommand().map(sh).join(" ")} "$@"\n`);
  chmodSync(join(dir, "bin/ssh2vsock"), 0o755);
  // The default config (search path) and another one that only -c FILE reaches.
  writeFileSync(join(dir, "xdg/ssh2vsock/config.toml"), `[hypervisor]\nlocal = true\n\n${GUEST("web1", 3)}\n${GUEST("db-2", 4)}`);
  writeFileSync(join(dir, "other.toml"), `[hypervisor]\nlocal = true\n\n${GUEST("only-other", 5)}`);
  // A helper that prints code where guest names belong: none of it may run, or be offered.
  markers = ["m-dollar", "m-backtick", "m-semicolon", "m-fish"].map((m) => join(dir, m));
  const evil = [`$(touch ${markers[0]})`, `\`touch ${markers[1]}\``, `x;touch ${markers[2]}`, `(touch ${markers[3]})`, "evil-ok"];
  writeFileSync(join(dir, "evil/ssh2vsock"), `#!/bin/sh\n[ "$1" = __complete-guests ] && printf '%s\\n' ${evil.map(sh).join(" ")}\nexit 0\n`);
  chmodSync(join(dir, "evil/ssh2vsock"), 0o755);

  for (const [shell, file] of [["bash", "ssh2vsock.bash"], ["zsh", "zfunc/_ssh2vsock"], ["fish", "xdg/fish/completions/ssh2vsock.fish"]]) {
    const r = await runCli(["completions", shell!]);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join(dir, file!), r.stdout);
  }
  writeFileSync(
    join(dir, "zdot/.zshrc"),
    [
      `fpath=(${sh(join(dir, "zfunc"))} $fpath)`,
      "autoload -Uz compinit && compinit -u -D",
      "zstyle ':completion:*' format '== %d'",
      "unsetopt beep",
      "PROMPT='READY> '",
      "",
    ].join("\n"),
  );
  const base = { HOME: dir, ZDOTDIR: join(dir, "zdot"), XDG_CONFIG_HOME: join(dir, "xdg"), XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_DIRS: "", SSH2VSOCK_CONFIG: "", TERM: "xterm", LANG: "C.UTF-8" };
  env = { ...base, PATH: `${join(dir, "bin")}:${process.env.PATH}` };
  evilEnv = { ...base, PATH: `${join(dir, "evil")}:${process.env.PATH}` };
});

after(() => rmSync(dir, { recursive: true, force: true }));
// One shell's failure leaves its marker: it must not be blamed on the next shell.
beforeEach(() => markers.forEach((m) => rmSync(m, { force: true })));

function assertNothingRan(): void {
  for (const m of markers) assert.ok(!existsSync(m), `a candidate ran as code: ${m} exists`);
}

/** COMPREPLY after calling bash's completion function as readline does for `line` (cursor at its end). */
async function bashComplete(line: string, e = env): Promise<string[]> {
  const script = [
    `source ${sh(join(dir, "ssh2vsock.bash"))}`,
    `COMP_LINE=$LINE; COMP_POINT=\${#LINE}; read -ra COMP_WORDS <<<"$LINE"`,
    `[[ $LINE == *' ' ]] && COMP_WORDS+=("")`,
    `COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()`,
    `$(complete -p ssh2vsock | sed -n 's/^complete -F \\([^ ]*\\) ssh2vsock$/\\1/p') ssh2vsock`,
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join("\n");
  const r = await runCommand("bash", ["--norc", "--noprofile", "-c", script], { env: { ...e, LINE: line }, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

/** fish's own completions for `line`: candidate and description, tab-separated. */
async function fishComplete(line: string, e = env): Promise<string[]> {
  const r = await runCommand("fish", ["--no-config", "-c", `set -g fish_complete_path $XDG_CONFIG_HOME/fish/completions; complete -C $LINE`], { env: { ...e, LINE: line }, cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}
const words = (lines: string[]) => lines.map((l) => l.split("\t")[0]);

/** An interactive shell in a tmux server of its own (private socket), stopped by kill-server and PID. */
class Tmux {
  private readonly socket: string;
  private pid = 0;
  constructor(name: string) {
    this.socket = join(dir, `tmux-${name}.sock`);
  }
  private async tmux(args: string[], e = env): Promise<string> {
    const r = await runCommand("tmux", ["-S", this.socket, ...args], { env: e, cwd: dir });
    assert.equal(r.code, 0, `tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }
  async start(command: string, e = env): Promise<void> {
    const out = await this.tmux(["-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "50", "-P", "-F", "#{pid}", command], e);
    this.pid = Number(out.trim());
  }
  screen(): Promise<string> {
    return this.tmux(["capture-pane", "-p"]);
  }
  async type(text: string, ...keys: string[]): Promise<void> {
    await this.tmux(["send-keys", "-l", text]);
    if (keys.length > 0) await this.tmux(["send-keys", ...keys]);
  }
  /** Waits until the screen satisfies `ok` (polling; the bound only ends a hung shell). */
  async waitFor(ok: (screen: string) => boolean, what: string): Promise<string> {
    let last = "";
    for (let i = 0; i < 300; i++) {
      last = await this.screen();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the screen never showed ${what}; it showed:\n${last}`);
  }
  async stop(): Promise<void> {
    await runCommand("tmux", ["-S", this.socket, "kill-server"], { env, cwd: dir });
    // Only if kill-server did not end it, and the PID is still that tmux server (not reused).
    const comm = (() => {
      try {
        return readFileSync(`/proc/${this.pid}/comm`, "utf8");
      } catch {
        return "";
      }
    })();
    if (this.pid > 0 && comm.startsWith("tmux")) process.kill(this.pid, "SIGKILL");
  }
}

describe("bash, through its completion function", () => {
  test("offers the commands, then the configured guests and the colon-free target forms", async () => {
    assert.deepEqual(await bashComplete("ssh2vsock "), ["tunnel", "proxy", "config", "known-hosts", "sshfp", "keyscan", "run", "doctor", "ssh-config", "completions"]);
    assert.deepEqual(await bashComplete("ssh2vsock proxy "), ["web1", "db-2", "vsock/", "vsock-mux/", "unix/", "qemu/", "qemu-system/", "qemu-session/"]);
    assert.deepEqual(await bashComplete("ssh2vsock proxy qemu"), ["qemu/", "qemu-system/", "qemu-session/"]);
  });

  test("takes the guest names from the config that -c FILE names", async () => {
    assert.deepEqual(await bashComplete("ssh2vsock -c other.toml tunnel "), ["only-other", "vsock/", "vsock-mux/", "unix/", "qemu/", "qemu-system/", "qemu-session/"]);
    assert.deepEqual(await bashComplete("ssh2vsock --config=other.toml doctor o"), ["only-other"]);
    assert.deepEqual(await bashComplete("ssh2vsock -c 'other.toml' keyscan o"), ["only-other"]);
  });

  test("after a typed colon, hands back only the part after it (':' breaks words in bash)", async () => {
    assert.deepEqual(await bashComplete("ssh2vsock proxy qemu:"), ["system/", "session/"]);
    assert.deepEqual(await bashComplete("ssh2vsock proxy qemu:se"), ["session/"]);
  });

  test("completes --log-format and --mode values, and config's subcommands only once", async () => {
    assert.deepEqual(await bashComplete("ssh2vsock --log-format "), ["human", "json"]);
    assert.deepEqual(await bashComplete("ssh2vsock --log-format=j"), ["json"]);
    assert.deepEqual(await bashComplete("ssh2vsock tunnel --mode "), ["splice", "forward"]);
    assert.deepEqual(await bashComplete("ssh2vsock config "), ["check", "show"]);
    assert.deepEqual(await bashComplete("ssh2vsock config check "), []);
  });

  test("never runs a candidate or a typed word as code", async () => {
    const offered = await bashComplete("ssh2vsock proxy ", evilEnv);
    await bashComplete(`ssh2vsock proxy $(touch ${markers[0]})`);
    await bashComplete(`ssh2vsock -c \`touch ${markers[1]}\` proxy `);
    await bashComplete(`ssh2vsock -c $(touch ${markers[2]})`);
    assertNothingRan();
    assert.deepEqual(offered, ["evil-ok", "vsock/", "vsock-mux/", "unix/", "qemu/", "qemu-system/", "qemu-session/"]);
  });

  test("readline completes qemu:se to qemu:session/ and qemu-sy to qemu-system/ on Tab", async () => {
    const t = new Tmux("bash");
    try {
      await t.start(`bash --norc --noprofile`);
      await t.type(`PS1='READY> '; source ${join(dir, "ssh2vsock.bash")}; clear`, "Enter");
      await t.waitFor((s) => s.startsWith("READY>"), "the bash prompt");
      await t.type("ssh2vsock proxy qemu:se", "Tab");
      await t.waitFor((s) => s.includes("READY> ssh2vsock proxy qemu:session/"), "qemu:session/ completed");
      await t.type("", "C-u");
      await t.type("ssh2vsock proxy qemu-sy", "Tab");
      await t.waitFor((s) => s.includes("READY> ssh2vsock proxy qemu-system/"), "qemu-system/ completed");
    } finally {
      await t.stop();
    }
  });
});

describe("zsh, on Tab with compinit and the script on $fpath", () => {
  test("lists commands, options, guests and target forms with their descriptions", async () => {
    const t = new Tmux("zsh");
    try {
      await t.start("zsh -i");
      await t.waitFor((s) => s.includes("READY>"), "the zsh prompt");
      await t.type("ssh2vsock ", "Tab");
      await t.waitFor((s) => /tunnel\s+-- open a verified local TCP tunnel/.test(s) && /completions\s+-- print a shell completion script/.test(s), "commands with descriptions");
      await t.type("", "C-u", "C-l");
      await t.type("ssh2vsock -c other.toml proxy ", "Tab");
      const s = await t.waitFor((s) => s.includes("only-other") && /qemu-session\/\s+-- a libvirt domain of qemu:\/\/\/session/.test(s), "guests and forms");
      assert.ok(!s.includes("web1") && !s.includes("qemu:system/"), s);
      await t.type("", "C-u", "C-l");
      await t.type("ssh2vsock --log-format ", "Tab");
      await t.waitFor((s) => /human\s+json/.test(s), "the --log-format values");
      await t.type("", "C-u", "C-l");
      await t.type("ssh2vsock proxy --", "Tab");
      await t.waitFor((s) => /--port\s+-- guest vsock port/.test(s) && /--log-format\s+-- diagnostics/.test(s), "options with descriptions");
      await t.type("", "C-u", "C-l");
      await t.type("ssh2vsock proxy qemu:se", "Tab");
      await t.waitFor((s) => s.includes("READY> ssh2vsock proxy qemu:session/"), "qemu:session/ completed");
    } finally {
      await t.stop();
    }
  });

  // A `$(…)` typed on the line is zsh's own affair (its first completion of a session expands the
  // word for every command, `ls $(…)` included), so here the code comes from the helper only.
  test("never runs or offers a guest name that is code", async () => {
    const t = new Tmux("zsh-evil");
    try {
      await t.start("zsh -i", evilEnv);
      await t.waitFor((s) => s.includes("READY>"), "the zsh prompt");
      await t.type("ssh2vsock proxy ", "Tab");
      const s = await t.waitFor((s) => s.includes("evil-ok") && s.includes("vsock-mux/"), "the safe guest name and the forms");
      assertNothingRan();
      assert.ok(!s.includes("touch"), s);
    } finally {
      await t.stop();
    }
  });
});

describe("fish, through complete -C with the script in ~/.config/fish/completions", () => {
  test("honours -c FILE for guest names", async () => {
    assert.deepEqual(words(await fishComplete("ssh2vsock -c other.toml proxy only")), ["only-other"]);
    assert.deepEqual(words(await fishComplete("ssh2vsock --config 'other.toml' doctor o")), ["only-other"]);
    assert.ok(words(await fishComplete("ssh2vsock proxy ")).includes("web1"));
    assert.ok(!words(await fishComplete("ssh2vsock -c other.toml proxy ")).includes("web1"));
  });

  test("offers check and show after config, and neither after one of them", async () => {
    assert.deepEqual(words(await fishComplete("ssh2vsock config ")).sort(), ["check", "show"]);
    assert.deepEqual(await fishComplete("ssh2vsock config check "), []);
    assert.deepEqual(await fishComplete("ssh2vsock config show "), []);
  });

  test("describes commands and target forms, and completes --log-format values", async () => {
    assert.ok((await fishComplete("ssh2vsock ")).includes("tunnel\topen a verified local TCP tunnel to each guest's SSH (all configured guests by default)"));
    assert.deepEqual(words(await fishComplete("ssh2vsock --log-format ")), ["human", "json"]);
    assert.deepEqual(words(await fishComplete("ssh2vsock proxy qemu")), ["qemu/", "qemu-session/", "qemu-system/"]);
    assert.deepEqual(words(await fishComplete("ssh2vsock proxy qemu:")), ["qemu:session/", "qemu:system/"]);
  });

  test("never runs a candidate or a typed word as code", async () => {
    const offered = await fishComplete("ssh2vsock proxy ", evilEnv);
    await fishComplete(`ssh2vsock proxy (touch ${markers[3]})`);
    await fishComplete(`ssh2vsock -c $(touch ${markers[0]}) proxy `);
    assertNothingRan();
    assert.ok(words(offered).includes("evil-ok"), offered.join("\n"));
    assert.ok(!offered.some((l) => l.includes("touch")), offered.join("\n"));
  });
});
