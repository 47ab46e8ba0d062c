// Checks that the guest's CID (or socket) answers through the relay with an SSH banner; a relay
// failure arrives already explained (socat-errors.ts: no such CID, nothing listening, …).
import type { GuestTransport } from "../config/types.ts";
import type { CommandStream } from "../vsock/command-stream.ts";
import { describeTransport } from "../vsock/open-guest-stream.ts";
import { escapePeerText } from "../peer-text.ts";
import { fail, failFrom, pass } from "./_verdict.ts";
import type { Verdict } from "./types.ts";

/** Opens the relay, reads the first line the guest sends, and closes the relay again. */
export async function checkBanner(transport: GuestTransport, open: () => Promise<CommandStream>): Promise<Verdict> {
  const what = describeTransport(transport);
  let relay: CommandStream;
  try {
    relay = await open();
  } catch (e) {
    // socat-errors.ts already names the cause and the fix on the guest or hypervisor side.
    return failFrom(e);
  }
  try {
    const first = await firstChunk(relay);
    const line = first.toString("latin1").split(/\r?\n/)[0]!;
    if (/^SSH-(2\.0|1\.99)-/.test(line)) return pass(`${what} answered: ${escapePeerText(line)}`);
    return fail(`${what} answered, but not with an SSH banner: "${escapePeerText(line, 80)}"`, "is sshd (and not another service) listening on that vsock port in the guest?");
  } finally {
    relay.kill();
  }
}

/** awaitGreeting pushed the first bytes back and paused the stream: take them. */
function firstChunk(relay: CommandStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunk = relay.stream.read() as Buffer | null;
    if (chunk) return resolve(chunk);
    relay.stream.once("data", (d: Buffer) => resolve(d));
    relay.stream.once("close", () => resolve(Buffer.alloc(0)));
    relay.stream.resume();
  });
}
