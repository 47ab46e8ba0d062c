// The plain description of the command tree that the completion scripts are generated from,
// and the rules every script shares: which guest names may be offered, and how a static word is quoted.

/** What a value (an argument or an option's value) completes to. */
export type ValueKind = "none" | "file" | "target" | "word" | { choices: string[] };

export interface OptionSpec {
  /** `--listen` */
  long?: string;
  /** `-c` */
  short?: string;
  value: ValueKind;
  description: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** What positional arguments complete to. */
  args: ValueKind;
  subcommands: CommandSpec[];
}

/** An ad-hoc target form offered beside the configured guest names. */
export interface TargetForm {
  prefix: string;
  description: string;
  /** Offered only once the word being completed holds a colon (`qemu:` typed). */
  afterColon?: boolean;
}

// The libvirt forms are offered in their colon-free spellings, which scp and rsync accept and
// which bash (":" is in COMP_WORDBREAKS) completes as one word. The colon spellings mean the
// same; offering them always would double the menu, so they come only once the user has typed
// a colon (`qemu:` Tab gives `qemu:system/`, `qemu:session/`), and the bash script hands back
// just the part after the colon, as bash expects.
export const TARGET_FORMS: readonly TargetForm[] = [
  { prefix: "vsock/", description: "a guest by vsock CID: vsock/CID[:PORT]" },
  { prefix: "vsock-mux/", description: "a hybrid vsock socket (Firecracker, Cloud Hypervisor)" },
  { prefix: "unix/", description: "a Unix socket that carries the guest's SSH" },
  { prefix: "qemu/", description: "a libvirt domain (qemu:///system, then qemu:///session)" },
  { prefix: "qemu-system/", description: "a libvirt domain of qemu:///system" },
  { prefix: "qemu-session/", description: "a libvirt domain of qemu:///session" },
  { prefix: "qemu:system/", description: "a libvirt domain of qemu:///system", afterColon: true },
  { prefix: "qemu:session/", description: "a libvirt domain of qemu:///session", afterColon: true },
];

/** The target forms always offered. */
export const TARGET_PREFIXES = TARGET_FORMS.filter((f) => !f.afterColon).map((f) => f.prefix);
/** The target forms offered once the word holds a colon. */
export const COLON_TARGET_PREFIXES = TARGET_FORMS.filter((f) => f.afterColon).map((f) => f.prefix);

/** Hidden helper the scripts call for guest names (honouring -c FILE). */
export const GUESTS_HELPER = "__complete-guests";

/**
 * The only guest names a script offers (the names the config accepts), as a POSIX ERE that bash,
 * zsh and fish all read the same way. Anything else from the helper is dropped, never inserted:
 * the scripts stay safe whatever the helper prints.
 */
export const SAFE_NAME_ERE = "^[A-Za-z0-9._-]+$";

/** Every flag spelling of some options: `--listen`, `-c`, `--config`. */
export const flags = (o: OptionSpec[]): string[] => o.flatMap((x) => [x.long, x.short].filter((f): f is string => !!f));

/** A POSIX-shell single-quoted word (bash and zsh): nothing inside is expanded. */
export const single = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** A shell-function-safe spelling of a name. */
export const fnName = (s: string): string => s.replace(/[^A-Za-z0-9]/g, "_");

/** The first line of a description, short enough for a completion menu. */
export function firstLine(s: string): string {
  return s.split("\n")[0]!.slice(0, 100);
}

/** The options of a command that take a value. */
export const valueOptions = (c: CommandSpec): OptionSpec[] => c.options.filter((o) => o.value !== "none");

/** Options valid after a command: its own, then the program's (commander accepts them anywhere). */
export function optionsAfter(c: CommandSpec, root: CommandSpec): OptionSpec[] {
  const own = new Set(flags(c.options));
  return [...c.options, ...root.options.filter((o) => !flags([o]).some((f) => own.has(f)))];
}
