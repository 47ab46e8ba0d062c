// The production KnownHostsFs: node:fs with an exclusive create, the mode and owner set on the
// open file, fsync before the rename so the renamed file is never empty after a crash.
import { closeSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import type { KnownHostsFs } from "./known-hosts-append.ts";

/** node:fs behind the KnownHostsFs interface. */
export function nodeKnownHostsFs(): KnownHostsFs {
  return {
    isRoot: process.getuid?.() === 0,
    stat(path) {
      try {
        const st = statSync(path);
        return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    read(path) {
      try {
        return readFileSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    writeNew(path, data, mode, owner) {
      const fd = openSync(path, "wx", 0o600);
      try {
        // Owner first: chown clears setuid/setgid bits, and the umask narrowed the open's mode.
        if (owner) fchownSync(fd, owner.uid, owner.gid);
        fchmodSync(fd, mode);
        let off = 0;
        while (off < data.length) off += writeSync(fd, data, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    rename: (from, to) => renameSync(from, to),
    remove: (path) => unlinkSync(path),
    mkdirp: (path, mode) => void mkdirSync(path, { recursive: true, mode }),
    resolve(path) {
      try {
        return realpathSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return path;
        throw e;
      }
    },
  };
}
