// The production KnownHostsFs: node:fs with an exclusive create, fsync before the rename so
// the renamed file is never empty after a crash.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, unlinkSync, writeSync } from "node:fs";
import type { KnownHostsFs } from "./known-hosts-append.ts";

/** node:fs behind the KnownHostsFs interface. */
export function nodeKnownHostsFs(): KnownHostsFs {
  return {
    read(path) {
      try {
        return readFileSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    writeNew(path, data, mode) {
      const fd = openSync(path, "wx", mode);
      try {
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
