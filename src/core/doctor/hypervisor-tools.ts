// Checks of what the hypervisor needs to reach guests: socat with VSOCK support (`socat -V`)
// and the vhost-vsock device, run where the relay runs (over SSH, or locally).
import type { CommandRunner } from "../vsock/command-stream.ts";
import { lastPeerLine as lastLine, escapePeerText } from "../peer-text.ts";
import { fail, failFrom, pass, warn } from "./_verdict.ts";
import type { Verdict } from "./types.ts";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion, collecting its output (bounded by `timeoutMs`). */
async function runToEnd(runner: CommandRunner, argv: string[], timeoutMs: number): Promise<Ran> {
  const cmd = await runner.run(argv);
  let stdout = "";
  cmd.stream.on("data", (d: Buffer) => {
    if (stdout.length < 65536) stdout += d.toString("utf8");
  });
  cmd.stream.on("error", () => {});
  // The exit status may arrive before the last output: wait for both.
  const ended = new Promise<void>((r) => {
    cmd.stream.once("end", r);
    cmd.stream.once("close", r);
  });
  cmd.stream.end();
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    Promise.all([cmd.exited, ended]).then(([c]) => c),
    new Promise<"timeout">((r) => (timer = setTimeout(r, timeoutMs, "timeout"))),
  ]);
  clearTimeout(timer);
  if (code === "timeout") {
    cmd.kill();
    throw new Error(`\`${argv.join(" ")}\` did not finish within ${Math.round(timeoutMs / 1000)} s`);
  }
  return { code, stdout, stderr: cmd.stderr() };
}

const INSTALL_HINT = "install socat >= 1.7.4 (Debian: apt-get install socat), or set `socat` to its path in the hypervisor's config";

/** `socat -V` where the relay runs: present, its version, and whether VSOCK is compiled in. */
export async function checkSocat(runner: CommandRunner, socat: string, timeoutMs: number): Promise<Verdict> {
  let r: Ran;
  try {
    r = await runToEnd(runner, [socat, "-V"], timeoutMs);
  } catch (e) {
    return failFrom(e, INSTALL_HINT);
  }
  const version = /socat version (\S+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || version === undefined) {
    const said = lastLine(r.stderr) || lastLine(r.stdout) || `exit status ${r.code}`;
    const missing = r.code === 127 || /not found|No such file/i.test(said);
    return fail(`${missing ? "socat not found" : "socat -V failed"}: \`${socat}\` on ${runner.where}: ${said}`, INSTALL_HINT);
  }
  if (!/#define WITH_VSOCK 1/.test(r.stdout)) {
    return fail(`socat ${version} on ${runner.where} has no VSOCK support (no WITH_VSOCK in \`${socat} -V\`)`, "socat >= 1.7.4 built with VSOCK is needed");
  }
  return pass(`\`${socat}\` on ${runner.where}: socat version ${version}, VSOCK supported`);
}

/** `/dev/vhost-vsock` exists where the relay runs; absent is a warning (a relay may still work). */
export async function checkVhostVsock(runner: CommandRunner, timeoutMs: number): Promise<Verdict> {
  let r: Ran;
  try {
    r = await runToEnd(runner, ["test", "-c", "/dev/vhost-vsock"], timeoutMs);
  } catch (e) {
    return warn(`cannot check /dev/vhost-vsock on ${runner.where}: ${escapePeerText((e as Error).message)}`);
  }
  if (r.code === 0) return pass(`/dev/vhost-vsock present on ${runner.where}`);
  return warn(`/dev/vhost-vsock is missing on ${runner.where}`, "load the module (modprobe vhost_vsock); without it no VM on this host can have a vsock device");
}
