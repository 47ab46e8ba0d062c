// appendKnownHostsLine: the write half of "generate vs write" (CONVENTIONS.md rule 6), against
// an in-memory file system that records every operation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { appendKnownHostsLine, nodeKnownHostsFs, type KnownHostsFs } from "../../src/core/doctor/index.ts";
import { chmodSync, chownSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OperationError } from "../../src/core/errors.ts";

interface MemFile {
  data: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** The writer's own uid and gid in the in-memory file system. */
const ME = 1000;

function memFs(initial: Record<string, string> = {}, opts: { isRoot?: boolean; mode?: number; uid?: number } = {}) {
  const files = new Map<string, MemFile>(Object.entries(initial).map(([p, t]) => [p, { data: Buffer.from(t), mode: opts.mode ?? 0o644, uid: opts.uid ?? ME, gid: opts.uid ?? ME }]));
  const dirs = new Set<string>();
  const ops: string[] = [];
  const fs: KnownHostsFs & { failRename?: boolean } = {
    isRoot: opts.isRoot ?? false,
    read: (p) => files.get(p)?.data,
    stat(p) {
      const f = files.get(p);
      return f && { mode: f.mode, uid: f.uid, gid: f.gid };
    },
    writeNew(p, data, mode, owner) {
      ops.push(`writeNew ${p}`);
      if (files.has(p)) throw Object.assign(new Error("exists"), { code: "EEXIST" });
      const me = opts.isRoot ? 0 : ME;
      files.set(p, { data: Buffer.from(data), mode, uid: owner?.uid ?? me, gid: owner?.gid ?? me });
    },
    rename(from, to) {
      ops.push(`rename ${from} -> ${to}`);
      if (fs.failRename) throw Object.assign(new Error("nope"), { code: "EXDEV" });
      files.set(to, files.get(from)!);
      files.delete(from);
    },
    remove(p) {
      ops.push(`remove ${p}`);
      if (!files.delete(p)) throw Object.assign(new Error("missing"), { code: "ENOENT" });
    },
    mkdirp(p) {
      dirs.add(p);
    },
    resolve: (p) => p,
  };
  return { fs, files, dirs, ops };
}

const LINE = "|1|c2FsdA==|aG1hYw== ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB";

describe("appendKnownHostsLine", () => {
  test("keeps every existing byte and adds exactly one line at the end", () => {
    const old = "# my hosts\n\nweb1 ssh-ed25519 AAAA  spaced  comment\r\n";
    const m = memFs({ "/h/.ssh/known_hosts": old });
    appendKnownHostsLine(m.fs, "/h/.ssh/known_hosts", LINE);
    const after = m.files.get("/h/.ssh/known_hosts")!;
    assert.equal(after.data.toString(), old + LINE + "\n");
    assert.ok(after.data.subarray(0, Buffer.byteLength(old)).equals(Buffer.from(old)));
  });

  test("starts the new line on its own line when the file lacks a final newline", () => {
    const m = memFs({ "/k": "a ssh-ed25519 AAAA" });
    appendKnownHostsLine(m.fs, "/k", LINE);
    assert.equal(m.files.get("/k")!.data.toString(), `a ssh-ed25519 AAAA\n${LINE}\n`);
  });

  test("creates a missing file, and its directory, with mode 0600", () => {
    const m = memFs();
    appendKnownHostsLine(m.fs, "/new/dir/known_hosts", LINE);
    assert.equal(m.files.get("/new/dir/known_hosts")!.data.toString(), LINE + "\n");
    assert.equal(m.files.get("/new/dir/known_hosts")!.mode, 0o600);
    assert.ok(m.dirs.has("/new/dir"));
  });

  test("writes a temporary file beside the target and renames it over the target", () => {
    const m = memFs({ "/d/known_hosts": "x\n" });
    appendKnownHostsLine(m.fs, "/d/known_hosts", LINE);
    assert.equal(m.ops.length, 2);
    const temp = /^writeNew (\/d\/\.known_hosts\.ssh2vsock-[0-9a-f]+\.tmp)$/.exec(m.ops[0]!)?.[1];
    assert.ok(temp, m.ops[0]);
    assert.equal(m.ops[1], `rename ${temp} -> /d/known_hosts`);
    assert.deepEqual([...m.files.keys()], ["/d/known_hosts"]);
  });

  test("keeps the file's mode: a 0644 known_hosts stays 0644, a 0640 one 0640", () => {
    for (const mode of [0o644, 0o640, 0o600]) {
      const m = memFs({ "/etc/ssh/ssh_known_hosts": "x\n" }, { mode });
      appendKnownHostsLine(m.fs, "/etc/ssh/ssh_known_hosts", LINE);
      assert.equal(m.files.get("/etc/ssh/ssh_known_hosts")!.mode.toString(8), mode.toString(8));
    }
  });

  test("as root, keeps the file's owner and group (another user's known_hosts stays theirs)", () => {
    const m = memFs({ "/home/alice/.ssh/known_hosts": "x\n" }, { isRoot: true, uid: 1234 });
    appendKnownHostsLine(m.fs, "/home/alice/.ssh/known_hosts", LINE);
    const f = m.files.get("/home/alice/.ssh/known_hosts")!;
    assert.deepEqual([f.uid, f.gid, f.mode], [1234, 1234, 0o644]);
  });

  test("not as root, asks for no owner change (the new file is the writer's own, as it was)", () => {
    const m = memFs({ "/h/known_hosts": "x\n" });
    appendKnownHostsLine(m.fs, "/h/known_hosts", LINE);
    assert.deepEqual([m.files.get("/h/known_hosts")!.uid, m.files.get("/h/known_hosts")!.gid], [ME, ME]);
  });

  test("leaves the original untouched and removes the temporary file when the rename fails", () => {
    const m = memFs({ "/d/known_hosts": "old\n" });
    m.fs.failRename = true;
    assert.throws(() => appendKnownHostsLine(m.fs, "/d/known_hosts", LINE), (e: unknown) => {
      assert.ok(e instanceof OperationError);
      assert.match(e.message, /cannot add the host key to \/d\/known_hosts: cannot move a file across file systems/);
      return true;
    });
    assert.equal(m.files.get("/d/known_hosts")!.data.toString(), "old\n");
    assert.deepEqual([...m.files.keys()], ["/d/known_hosts"]);
  });

  test("keeps a line another writer appended meanwhile: starts over from the file as it is now", () => {
    const m = memFs({ "/d/known_hosts": "old\n" });
    const writeNew = m.fs.writeNew;
    let raced = false;
    m.fs.writeNew = (p, data, mode) => {
      writeNew(p, data, mode);
      if (!raced) {
        raced = true;
        const f = m.files.get("/d/known_hosts")!;
        f.data = Buffer.concat([f.data, Buffer.from("theirs ssh-ed25519 AAAA\n")]);
      }
    };
    appendKnownHostsLine(m.fs, "/d/known_hosts", LINE);
    assert.equal(m.files.get("/d/known_hosts")!.data.toString(), `old\ntheirs ssh-ed25519 AAAA\n${LINE}\n`);
    assert.deepEqual([...m.files.keys()], ["/d/known_hosts"], "no temporary file left behind");
  });

  test("gives up with a clear error, leaving the file as the other writer left it, when it never settles", () => {
    const m = memFs({ "/d/known_hosts": "old\n" });
    const writeNew = m.fs.writeNew;
    m.fs.writeNew = (p, data, mode) => {
      writeNew(p, data, mode);
      const f = m.files.get("/d/known_hosts")!;
      f.data = Buffer.concat([f.data, Buffer.from("busy\n")]);
    };
    assert.throws(() => appendKnownHostsLine(m.fs, "/d/known_hosts", LINE), /cannot add the host key to \/d\/known_hosts: the file keeps changing while ssh2vsock writes it/);
    assert.equal(m.files.get("/d/known_hosts")!.data.toString(), "old\n" + "busy\n".repeat(5));
    assert.deepEqual([...m.files.keys()], ["/d/known_hosts"]);
  });

  test("refuses a line containing a line break (it would smuggle a second entry)", () => {
    const m = memFs({ "/k": "x\n" });
    assert.throws(() => appendKnownHostsLine(m.fs, "/k", `${LINE}\n* ssh-ed25519 AAAA`), OperationError);
    assert.equal(m.files.get("/k")!.data.toString(), "x\n");
  });
});

describe("appendKnownHostsLine on the real file system", () => {
  test("follows a symbolic link: the file it points to gets the line, the link stays a link", () => {
    const dir = mkdtempSync(join(tmpdir(), "s2v-kh-"));
    try {
      const target = join(dir, "dotfiles-known_hosts");
      const link = join(dir, "known_hosts");
      writeFileSync(target, "old line\n");
      chmodSync(target, 0o644);
      symlinkSync(target, link);
      appendKnownHostsLine(nodeKnownHostsFs(), link, "|1|salt|hmac ssh-ed25519 AAAA");
      assert.equal(lstatSync(link).isSymbolicLink(), true);
      assert.equal(readFileSync(target, "utf8"), "old line\n|1|salt|hmac ssh-ed25519 AAAA\n");
      assert.equal(statSync(target).mode & 0o777, 0o644, "the file kept its mode");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("keeps mode 0644 and, as root, the owner of a system-wide file (umask does not narrow it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "s2v-kh-"));
    const umask = process.umask(0o077);
    try {
      const file = join(dir, "ssh_known_hosts");
      writeFileSync(file, "old line\n");
      chmodSync(file, 0o664);
      const asRoot = process.getuid?.() === 0;
      if (asRoot) chownSync(file, 4321, 4322);
      appendKnownHostsLine(nodeKnownHostsFs(), file, "|1|salt|hmac ssh-ed25519 AAAA");
      const st = statSync(file);
      assert.equal((st.mode & 0o777).toString(8), "664");
      if (asRoot) assert.deepEqual([st.uid, st.gid], [4321, 4322]);
      assert.equal(readFileSync(file, "utf8"), "old line\n|1|salt|hmac ssh-ed25519 AAAA\n");
    } finally {
      process.umask(umask);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("creates a missing file with mode 0600", () => {
    const dir = mkdtempSync(join(tmpdir(), "s2v-kh-"));
    try {
      const file = join(dir, "sub", "known_hosts");
      appendKnownHostsLine(nodeKnownHostsFs(), file, "|1|salt|hmac ssh-ed25519 AAAA");
      assert.equal((statSync(file).mode & 0o777).toString(8), "600");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
