// Names why a Unix stream socket on the hypervisor could not carry the guest's stream, from a
// local connect error's errno or from the stderr of the hypervisor's `socat UNIX-CONNECT`.
import { RelayError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";

/** What went wrong, as far as the errno (or socat's text for it) tells. */
export type UnixFailure = "missing" | "refused" | "denied" | "not-socket" | "no-socat" | "other";

/**
 * Classifies a node errno code or a line of socat's stderr.
 * @example classifyUnixFailure("ENOENT") // "missing"
 * @example classifyUnixFailure("E connect(5, AF=1 \"/run/x\", 9): Connection refused") // "refused"
 */
export function classifyUnixFailure(text: string, exitCode: number | null = null): UnixFailure {
  if (exitCode === 127 || /socat: (command )?not found|socat: No such file/i.test(text)) return "no-socat";
  if (/ENOENT|No such file or directory/i.test(text)) return "missing";
  if (/ECONNREFUSED|Connection refused/i.test(text)) return "refused";
  if (/EACCES|EPERM|Permission denied|Operation not permitted/i.test(text)) return "denied";
  if (/ENOTSOCK|ENOTDIR|Socket operation on non-socket|Not a directory|EPROTOTYPE|Protocol wrong type/i.test(text)) {
    return "not-socket";
  }
  return "other";
}

/** The RelayError (exit 6) for a socket at `path` that could not be opened (the label says where). */
export function unixFailureError(label: string, path: string, kind: UnixFailure, detail: string): RelayError {
  // A bare errno code (a local connect's ENOENT) is what the message already says in words.
  const errno = /^E[A-Z0-9]+$/.test(detail);
  const said = !detail || (errno && kind !== "other") ? "" : `: ${errno ? (ERRNO_WORDS[detail] ?? `error ${detail}`) : detail}`;
  switch (kind) {
    case "missing":
      return new RelayError(`${label}: no socket at ${path}${said}`, {
        hint: "is the VM (or container) running? PATH is absolute unless it starts with ./ (unix/run/vm.sock is /run/vm.sock)",
      });
    case "refused":
      return new RelayError(`${label}: nothing is listening on ${path}${said}`, {
        hint: "the socket file is left over from a process that has ended; restart the VM or its socket service",
      });
    case "denied":
      return new RelayError(`${label}: permission denied opening ${path}${said}`, {
        hint: "connect as a user that may open the socket (its owner, or a member of its group)",
      });
    case "not-socket":
      return new RelayError(`${label}: ${path} is not a stream socket${said}`, {
        hint: "point the target at the VMM's Unix stream socket",
      });
    case "no-socat":
      return new RelayError(`${label}: socat is not installed there${said}`, {
        hint: "install socat there (Debian: apt-get install socat), or set `socat` to its path in the hypervisor's config",
      });
    case "other":
      return new RelayError(`${label}: cannot open ${path}${said}`);
  }
}

// The few errno codes a Unix connect can end with that the kinds above do not name.
const ERRNO_WORDS: Record<string, string> = {
  EAGAIN: "the socket's backlog is full",
  ENAMETOOLONG: "the path is too long for a Unix socket (about 107 bytes)",
  ELOOP: "too many symbolic links in the path",
  ETIMEDOUT: "timed out",
  ECONNRESET: "the connection was reset",
};

/** Builds awaitGreeting's explainer for a socat UNIX-CONNECT relay to `path`. */
export function explainUnixRelay(path: string) {
  return (label: string, stderr: string, exitCode: number | null): RelayError => {
    const reason = lastLine(stderr);
    const kind = classifyUnixFailure(reason, exitCode);
    if (kind !== "other" || reason) return unixFailureError(label, path, kind, reason);
    return new RelayError(`${label}: ${path} closed before the guest's SSH banner`, {
      hint: "the socket accepted the connection but nothing spoke SSH on it; is it the guest's SSH (or a hybrid vsock socket: use vsock-mux/PATH)?",
    });
  };
}

/**
 * The last non-empty line of a command's stderr (socat, virsh), escaped and bounded, without
 * socat's date/pid prefix.
 * @example lastLine("2024/01/02 03:04:05 socat[9] E connect(…): Connection refused\n") // "connect(…): Connection refused"
 */
export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const last = (lines.at(-1) ?? "").replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? socat\[\d+\] [EWNFI] /, "");
  return escapePeerText(last, 300);
}
