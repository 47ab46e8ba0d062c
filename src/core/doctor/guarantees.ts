// Doctor's check of what the configuration weakens for the guest it diagnoses (a listener others
// can reach, an ignored host key, SSHFP over plain DNS, readable secrets): a warning, never a failure.
import { statSync } from "node:fs";
import type { GuestConfig } from "../config/types.ts";
import { weakenedGuarantees } from "../guarantees.ts";
import { pass, warn } from "./_verdict.ts";
import type { DoctorDeps, Verdict } from "./types.ts";

/** Permission bits of a file, or undefined when it cannot be looked at. */
function nodeFileMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Warns with each weakened guarantee as `code: message`, their hints joined; passes otherwise. */
export function checkGuarantees(guest: GuestConfig, deps: Pick<DoctorDeps, "load" | "fileMode">): { verdict: Verdict } {
  const file = deps.load().file;
  const mode = file === undefined ? undefined : (deps.fileMode ?? nodeFileMode)(file);
  const found = weakenedGuarantees({
    guests: [guest],
    listeners: true,
    ...(file !== undefined && mode !== undefined ? { configFile: { path: file, mode } } : {}),
  });
  if (found.length === 0) {
    return { verdict: pass("the tunnel listens on loopback, every host key is checked, SSHFP (if used) is local or over TLS, no secret is readable by others") };
  }
  return { verdict: warn(found.map((w) => `${w.code}: ${w.message}`).join("; "), found.map((w) => w.hint).join("; ")) };
}
