// appendKnownHostsLine: the write half of "generate vs write" (CONVENTIONS.md rule 6), against
// an in-memory file system that records every operation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { appendKnownHostsLine, nodeKnownHostsFs, type KnownHostsFs } from "../../src/core/doctor/index.ts";
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OperationError } from "../../src/core/errors.ts";

interface MemFile {
  data: Buffer;
  mode: number;
}

function memFs(initial: Record<string, string> = {}) {
  const files = new Map<string, MemFile>(Object.entries(initial).map(([p, t]) => [p, { data: Buffer.from(t), mode: 0o644 }]));
  const dirs = new Set<string>();
  const ops: string[] = [];
  const fs: KnownHostsFs & { failRename?: boolean } = {
    read: (p) => files.get(p)?.data,
    writeNew(p, data, mode) {
      ops.push(`writeNew ${p}`);
      if (files.has(p)) throw Object.assign(new Error("exists"), { code: "EEXIST" });
      files.set(p, { data: Buffer.from(data), mode });
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
    assert.equal(m.files.get("/d/known_hosts")!.mode, 0o600);
    assert.deepEqual([...m.files.keys()], ["/d/known_hosts"]);
  });

  test("leaves the original untouched and removes the temporary file when the rename fails", () => {
    const m = memFs({ "/d/known_hosts": "old\n" });
    m.fs.failRename = true;
    assert.throws(() => appendKnownHostsLine(m.fs, "/d/known_hosts", LINE), (e: unknown) => {
      assert.ok(e instanceof OperationError);
      assert.match(e.message, /cannot add the host key to \/d\/known_hosts: EXDEV/);
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
    assert.throws(() => appendKnownHostsLine(m.fs, "/d/known_hosts", LINE), /cannot add the host key to \/d\/known_hosts: EAGAIN/);
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
      symlinkSync(target, link);
      appendKnownHostsLine(nodeKnownHostsFs(), link, "|1|salt|hmac ssh-ed25519 AAAA");
      assert.equal(lstatSync(link).isSymbolicLink(), true);
      assert.equal(readFileSync(target, "utf8"), "old line\n|1|salt|hmac ssh-ed25519 AAAA\n");
      assert.equal(statSync(target).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
