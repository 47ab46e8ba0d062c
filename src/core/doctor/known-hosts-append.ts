// Writes (as opposed to generates, CONVENTIONS.md rule 6) one known_hosts line: the file is
// replaced atomically by a temporary file beside it, its bytes, mode and (as root) owner kept.
import { randomBytes } from "node:crypto";
import { dirname, basename, join } from "node:path";
import { OperationError } from "../errors.ts";
import { errnoText } from "../errno-text.ts";

/** Times the append starts over because another writer changed the file under it. */
const MAX_ATTEMPTS = 5;

/** Who owns a file. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/** The file operations the append needs; node:fs in production, an in-memory map in tests. */
export interface KnownHostsFs {
  /** True when running as root, who alone may give a file to another user. */
  readonly isRoot: boolean;
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Buffer | undefined;
  /** The file's permission bits and owner, or undefined when it does not exist. */
  stat(path: string): ({ mode: number } & FileOwner) | undefined;
  /**
   * Creates `path` exclusively with exactly `mode` (whatever the umask), owned by `owner` when
   * given, and writes `data` to it (and flushes it to disk).
   */
  writeNew(path: string, data: Buffer, mode: number, owner?: FileOwner): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
  /** Creates a directory and its parents with `mode` when missing. */
  mkdirp(path: string, mode: number): void;
  /** Where a symbolic link finally points (the path itself when it is none or does not exist). */
  resolve(path: string): string;
}

/**
 * Appends `line` to the known_hosts file at `path`, creating it (mode 0600, directory 0700)
 * when missing. The new file is written beside the old one and renamed over it, so a reader
 * sees the old file or the new one, never half of either. The result keeps the old file's mode
 * and, as root, its owner and group: `/etc/ssh/ssh_known_hosts` stays readable by every user,
 * and root appending to a user's file leaves it that user's. A symbolic
 * link is followed: the file it points to is the one replaced. A line another writer appends
 * while this one is being written is kept: the append starts over from the file as it is then.
 * @example appendKnownHostsLine(nodeKnownHostsFs(), "/root/.ssh/known_hosts", knownHostsLine(key, "web1", { hash: true }))
 */
export function appendKnownHostsLine(fs: KnownHostsFs, linkOrPath: string, line: string): void {
  if (/[\r\n]/.test(line)) throw new OperationError("known-hosts-write", `refusing to write a known_hosts line with a line break to ${linkOrPath}`);
  // A known_hosts kept in a dotfiles repository is often a symlink: replace the file it points
  // to, so the link stays a link.
  const path = fs.resolve(linkOrPath);
  const dir = dirname(path);
  let temp = "";
  try {
    fs.mkdirp(dir, 0o700);
    for (let attempt = 1; ; attempt++) {
      temp = join(dir, `.${basename(path)}.ssh2vsock-${randomBytes(6).toString("hex")}.tmp`);
      const st = fs.stat(path);
      const old = fs.read(path) ?? Buffer.alloc(0);
      // A last line without its newline stays byte-for-byte; the new line starts on its own line.
      const separator = old.length > 0 && old[old.length - 1] !== 0x0a ? "\n" : "";
      const mode = st ? st.mode & 0o7777 : 0o600;
      const owner = st && fs.isRoot ? { uid: st.uid, gid: st.gid } : undefined;
      fs.writeNew(temp, Buffer.concat([old, Buffer.from(`${separator}${line}\n`, "utf8")]), mode, owner);
      // Another writer (a second doctor, ssh's accept-new) may have appended meanwhile: replacing
      // the file now would drop its line. Start again from the file as it is now.
      const now = fs.read(path) ?? Buffer.alloc(0);
      if (now.equals(old)) break;
      fs.remove(temp);
      temp = "";
      if (attempt === MAX_ATTEMPTS) throw new Error("the file keeps changing while ssh2vsock writes it");
    }
    fs.rename(temp, path);
  } catch (e) {
    try {
      if (temp) fs.remove(temp);
    } catch {
      // The temporary file was never created, or is already gone.
    }
    const code = errnoText(e);
    throw new OperationError("known-hosts-write", `cannot add the host key to ${path}: ${code}`, {
      hint: "check that the directory is writable, or add the line yourself (ssh2vsock keyscan --hash)",
      cause: e,
    });
  }
}
