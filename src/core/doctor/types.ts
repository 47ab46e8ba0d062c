// Shapes of doctor's report and of what the checks need from outside (config loading, trust
// decisions, file writes): the engine decides, the command prompts and prints.
import type { GuestConfig, LoadedConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import type { KnownHostsFs } from "./known-hosts-append.ts";

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** One check's outcome, as printed and as `--json` carries it. */
export interface CheckResult {
  /** Stable identifier: `hypervisor-host-key`, `guest-banner`, … */
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
}

/** The whole report; `ok` is false when any check failed. */
export interface DoctorReport {
  target: string | null;
  checks: CheckResult[];
  ok: boolean;
}

/** A check's verdict before it is named. */
export type Verdict = Omit<CheckResult, "id" | "title">;

/** Asked when a server presents a key nothing trusts; the answer decides whether doctor trusts it. */
export interface TrustRequest {
  hop: "hypervisor" | "guest";
  /** `hypervisor root@127.0.0.1:2222`, `guest web1` */
  label: string;
  /** Name the key would be recorded under: `[127.0.0.1]:2222`, `web1.example.com`. */
  knownHostsName: string;
  keyType: string;
  /** `SHA256:…` */
  fingerprint: string;
  /** The known_hosts file the key would be appended to. */
  file: string;
}

/** Progress of a run, for spinners: each check starts, then is done. */
export type DoctorProgress =
  | { kind: "start"; id: string; title: string }
  | { kind: "done"; result: CheckResult };

export interface DoctorDeps {
  io: EngineIO;
  /** Loads the configuration; throws ConfigError when it is invalid. */
  load(): LoadedConfig;
  /** Resolves a TARGET; throws UsageError when it names nothing. */
  resolve(target: string, loaded: LoadedConfig): GuestConfig;
  /** Absent: never trust an unknown key (no terminal, `--no-input`). */
  confirmTrust?(req: TrustRequest): Promise<boolean>;
  /** Where accepted keys are appended; needed with confirmTrust. */
  knownHostsFs?: KnownHostsFs;
  /** Permission bits of a file (the configuration's); node:fs when absent. */
  fileMode?(path: string): number | undefined;
}
