// Typed failures of ssh2vsock: one class per family, each with a stable code, the exit code
// it maps to (DESIGN.md "Exit codes") and a hint; src/main.ts alone turns them into text.

/** Exit codes fixed by DESIGN.md. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  hostKey: 3,
  auth: 4,
  unreachable: 5,
  relay: 6,
  interrupted: 130,
} as const;

export interface ErrorDetails {
  /** A remediation line shown as `hint: …`. */
  hint?: string;
  /** The underlying error, for -vv diagnostics. Never carries secrets. */
  cause?: unknown;
}

/** Base of every error ssh2vsock reports on purpose. `what` names what failed. */
export class Ssh2vsockError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint?: string;
  constructor(code: string, exitCode: number, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = details.hint;
  }
}

/** Bad command line (exit 2). */
export class UsageError extends Ssh2vsockError {
  constructor(message: string, details?: ErrorDetails) {
    super("usage", ExitCode.usage, message, details);
  }
}

/** One problem in a configuration file, located by file, attribute path and (for TOML syntax) line:column. */
export interface ConfigProblem {
  file: string;
  /** Attribute path such as `guests.web1.use_sshfp`; empty for file-level problems. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** Configuration missing, unparsable or invalid (exit 2); carries every problem found. */
export class ConfigError extends Ssh2vsockError {
  readonly problems: ConfigProblem[];
  constructor(message: string, problems: ConfigProblem[] = [], details?: ErrorDetails) {
    super("config", ExitCode.usage, message, details);
    this.problems = problems;
  }
}

/** Host key not trusted, changed, revoked, or no algorithm overlap (exit 3). */
export class HostKeyError extends Ssh2vsockError {
  /** SHA-256 fingerprint of the presented key, when one was presented. */
  readonly presented?: string;
  /** Where the expected keys came from, and their fingerprints. */
  readonly expected: string[];
  constructor(
    code: string,
    message: string,
    info: { presented?: string; expected?: string[] } & ErrorDetails = {},
  ) {
    super(code, ExitCode.hostKey, message, info);
    this.presented = info.presented;
    this.expected = info.expected ?? [];
  }
}

/** Authentication refused or impossible (exit 4). */
export class AuthError extends Ssh2vsockError {
  constructor(message: string, details?: ErrorDetails) {
    super("auth", ExitCode.auth, message, details);
  }
}

/** Hypervisor (or guest transport) cannot be reached: DNS, refused, timeout (exit 5). */
export class UnreachableError extends Ssh2vsockError {
  constructor(message: string, details?: ErrorDetails) {
    super("unreachable", ExitCode.unreachable, message, details);
  }
}

/** The vsock relay failed: socat missing, CID unreachable, guest not listening (exit 6). */
export class RelayError extends Ssh2vsockError {
  constructor(message: string, details?: ErrorDetails) {
    super("relay", ExitCode.relay, message, details);
  }
}

/** Any other failure worth a clear line (exit 1). */
export class OperationError extends Ssh2vsockError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super(code, ExitCode.failure, message, details);
  }
}
