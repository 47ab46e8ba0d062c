// `ssh2vsock --version`: the version, the runtime running it and the commit it was built from,
// as `ssh -V` does: `ssh2vsock 0.1.0 (bun 1.4.5, linux-x64, commit abc1234)`.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Replaced by `bun build --define SSH2VSOCK_COMMIT='"abc1234"'` (package.json's build script,
// scripts/release); undeclared when running from source.
declare const SSH2VSOCK_COMMIT: string | undefined;

/** What runs this process: `bun 1.4.5`, `deno 2.9.6` or `node 22.1.0`. */
export function runtimeName(g: { Bun?: { version: string }; Deno?: { version: { deno: string } } } = globalThis as never): string {
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}

/**
 * The commit: baked in at build time; from source, asked of git (only when --version is
 * given, so the cost of one git call is paid by nobody else); `source` when git cannot say.
 */
export function buildCommit(): string {
  if (typeof SSH2VSOCK_COMMIT === "string" && SSH2VSOCK_COMMIT !== "") return SSH2VSOCK_COMMIT;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // A compiled binary built without the define (a plain `bun build --compile`) has no checkout.
  if (here.includes("$bunfs") || here.startsWith("/~BUN") || here.includes("~BUN")) return "unknown";
  try {
    const out = execFileSync("git", ["-C", here, "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 3000 });
    return out.trim() || "source";
  } catch {
    return "source";
  }
}

/**
 * The whole line.
 * @example versionLine("0.1.0", "bun 1.4.5", "linux-x64", "abc1234") // "ssh2vsock 0.1.0 (bun 1.4.5, linux-x64, commit abc1234)"
 */
export function versionLine(version: string, runtime = runtimeName(), platform = `${process.platform}-${process.arch}`, commit = buildCommit()): string {
  const built = commit === "source" ? "source" : `commit ${commit}`;
  return `ssh2vsock ${version} (${runtime}, ${platform}, ${built})`;
}
