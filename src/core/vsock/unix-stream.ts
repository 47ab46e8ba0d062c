// Opens a Unix stream socket on the hypervisor as a CommandStream: directly with node:net when
// ssh2vsock runs there (local mode), else through `socat - UNIX-CONNECT:PATH` over the session.
import net from "node:net";
import type { CommandRunner, CommandStream } from "./command-stream.ts";
import { RelayError } from "../errors.ts";
import { classifyUnixFailure, unixFailureError } from "./unix-errors.ts";

// socat (1.7) splits an address at ':' and ',', and treats '!!', quotes, backslashes and
// brackets specially: a path holding any of them would be read as something else.
const SOCAT_UNSAFE = /[:,!'"\\()[\]{}\s\x00-\x1f\x7f]/;

/**
 * Connects to `path`. Locally a failed connect rejects at once with the cause (exit 6); through
 * the hypervisor, socat's failure surfaces when the stream ends (explain it with explainUnixRelay).
 */
export async function openUnixStream(path: string, runner: CommandRunner, socat: string, label: string): Promise<CommandStream> {
  if (runner.local) return connectLocal(path, label);
  if (SOCAT_UNSAFE.test(path)) {
    throw new RelayError(`${label}: socat cannot address the socket path ${JSON.stringify(path)}`, {
      hint: "socat reads : , ! quotes, brackets and spaces in an address as syntax; link the socket to a plain path and use that",
    });
  }
  return runner.run([socat, "-", `UNIX-CONNECT:${path}`]);
}

function connectLocal(path: string, label: string): Promise<CommandStream> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path, allowHalfOpen: true });
    const onError = (e: NodeJS.ErrnoException) => {
      socket.destroy();
      const code = e.code ?? e.message;
      reject(unixFailureError(label, path, classifyUnixFailure(code), code));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.removeListener("error", onError);
      const exited = new Promise<number | null>((r) => socket.once("close", (hadError) => r(hadError ? null : 0)));
      // Later errors (reset by the peer) end the stream; the readers see "close".
      socket.on("error", () => {});
      resolve({ stream: socket, stderr: () => "", exited, kill: () => socket.destroy() });
    });
  });
}
