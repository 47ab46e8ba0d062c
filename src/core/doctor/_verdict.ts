// Small constructors for check verdicts, and the one translation of a typed error into a
// failing verdict (its message as detail, its hint as hint).
import { Ssh2vsockError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import type { Verdict } from "./types.ts";

export const pass = (detail: string): Verdict => ({ status: "pass", detail });
export const warn = (detail: string, hint?: string): Verdict => ({ status: "warn", detail, ...(hint ? { hint } : {}) });
export const fail = (detail: string, hint?: string): Verdict => ({ status: "fail", detail, ...(hint ? { hint } : {}) });
export const skip = (detail: string): Verdict => ({ status: "skip", detail });

/** A failing verdict from any thrown value; typed errors keep their hint. */
export function failFrom(err: unknown, extraHint?: string): Verdict {
  if (err instanceof Ssh2vsockError) {
    const hint = [err.hint, extraHint].filter(Boolean).join("; ");
    return fail(err.message, hint || undefined);
  }
  return fail(`unexpected error: ${escapePeerText((err as Error)?.message ?? String(err))}`, extraHint);
}
