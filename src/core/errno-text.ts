// Turns a system error code (ENOENT, EACCES, …) into the words a user reads, so messages say
// "no such file" rather than a raw errno name. Unknown codes fall back to the error's text.

const WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "file name too long",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENOSPC: "no space left on the device",
  EROFS: "read-only file system",
  EEXIST: "already exists",
  EBUSY: "busy",
  EIO: "input/output error",
  EAGAIN: "temporarily unavailable",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the peer",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
  EPIPE: "the other end closed",
  ENOTSOCK: "not a socket",
  ENXIO: "no such device or address",
  EXDEV: "cannot move a file across file systems",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this machine",
};

/**
 * Words for an error from node:fs or node:net: by its `code` when known, else its message.
 * @example errnoText(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" })) // "no such file or directory"
 */
export function errnoText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && WORDS[code] !== undefined) return WORDS[code]!;
  const message = error instanceof Error ? error.message : String(error);
  // Node's messages start with the code ("EXDEV: cross-device link not permitted, rename …").
  return message.replace(/^E[A-Z]+: /, "").replace(/, \w+ '.*'$/, "") || "unknown error";
}
