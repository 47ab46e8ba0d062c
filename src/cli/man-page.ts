// ssh2vsock(1) in roff (man(7) macros): commands, options and arguments read from the declared
// command tree; targets, configuration keys, files, environment and exit codes written here.
import type { Argument, Command, Option } from "commander";
import { ATTRIBUTES, DEFAULTS } from "../core/config/schema.ts";
import { ExitCode } from "../core/errors.ts";

/**
 * One line per configuration key. The schema carries no prose, so this table does; a key the
 * schema gains without a line here makes manPage() throw (and the unit test fail).
 */
export const KEY_DESCRIPTIONS: Readonly<Record<string, string>> = {
  hostname: "the host to connect to (hypervisor); for a guest, the name its host key is checked under",
  port: `SSH port (default ${DEFAULTS.port}); inherited per attribute, by the guest too`,
  username: `user name to log in as (default ${DEFAULTS.username})`,
  connect_timeout: `seconds to wait for a connection and its handshake (default ${DEFAULTS.connectTimeoutSeconds})`,
  keepalive_interval: `seconds between SSH keepalive probes, 0 turns them off (default ${DEFAULTS.keepaliveIntervalSeconds})`,
  keepalive_count_max: `unanswered keepalive probes before the session ends (default ${DEFAULTS.keepaliveCountMax})`,
  known_hosts: "list of known_hosts lines trusted for this hop",
  known_hosts_file: "a known_hosts file trusted for this hop (plain or hashed names, @revoked, @cert-authority)",
  use_sshfp: "trust DNSSEC-validated SSHFP records of hostname (needs dns_resolver)",
  dns_resolver: "the validating resolver asked for SSHFP records: IPv4:PORT or [IPv6]:PORT",
  ca_file: "CA certificates (PEM): SSHFP lookups go over DNS-over-TLS, verified against this CA only",
  dns_tls_name: "the name the resolver's TLS certificate must carry (default: its IP address)",
  ssh_ignore_host_key: "do not check the guest's host key (said on stderr each time; never for a hypervisor)",
  password: "password authentication (secret: never shown or logged)",
  ssh_private_key: "private key file for public key authentication",
  ssh_private_key_passphrase: "passphrase of ssh_private_key (secret: never shown or logged)",
  ssh_certificate: "user certificate for the key (default: KEY-cert.pub beside the key, as OpenSSH does)",
  ssh_use_agent: "authenticate with the keys of the SSH agent",
  ssh_agent_sock: "the agent's socket (default: $SSH_AUTH_SOCK)",
  cid: "the guest's vsock context ID, 3 ... 4294967294",
  vsock_mux: "a hybrid vsock Unix socket on the hypervisor (Firecracker, Cloud Hypervisor)",
  unix_socket: "a Unix stream socket on the hypervisor that carries the guest's SSH",
  domain: "a libvirt domain name, UUID or ID; its CID is read with virsh dumpxml",
  hypervisor: "the guest's hypervisor: a [hypervisors.NAME] name, or an inline table of hypervisor keys",
  listen: "the tunnel's local address, HOST:PORT (default 127.0.0.1:0, a free port)",
  target: "where the tunnel leads on the guest's side, HOST:PORT (default 127.0.0.1:22)",
  mode: "splice or forward (see tunnel); on a hypervisor block, the default of its guests",
  shutdown_timeout: `seconds SIGTERM lets open connections finish (default ${DEFAULTS.shutdownTimeoutSeconds})`,
  local: "ssh2vsock runs on this hypervisor itself: no SSH hop, the local socat and virsh",
  socat: `the socat command run on the hypervisor (default ${DEFAULTS.socat}; version 1.7.4 or later)`,
};

const EXIT_MEANINGS: Readonly<Record<keyof typeof ExitCode, string>> = {
  ok: "success",
  failure: "a failure not listed below",
  usage: "usage or configuration error",
  hostKey: "host key verification failed (unknown, changed or revoked key, no algorithm overlap, SSHFP not validated)",
  auth: "authentication failed",
  unreachable: "hypervisor unreachable",
  relay: "vsock relay failed (socat or virsh missing, no VM on that CID, nothing listening in the guest)",
  interrupted: "interrupted",
};

// Typographic characters the descriptions use, in groff's own spelling: the page stays ASCII.
const GLYPHS: Record<string, string> = { "…": "...", "—": "\\(em", "–": "\\(en", "→": "\\(->", "≥": "\\(>=", "’": "'", "“": '"', "”": '"' };

/**
 * Escapes text for a roff text line: backslashes, every hyphen (so options copy as ASCII
 * hyphen-minus) and a leading `.` or `'` that would make the line a request.
 * @example roff("-c FILE") // "\\-c FILE"
 */
export function roff(text: string): string {
  const out = text
    .replaceAll("\\", "\\e")
    .replaceAll("-", "\\-")
    .replace(/[…—–→≥’“”]/g, (c) => GLYPHS[c]!);
  return /^[.']/.test(out) ? `\\&${out}` : out;
}

const bold = (s: string) => `\\fB${roff(s)}\\fR`;
const italic = (s: string) => `\\fI${roff(s)}\\fR`;
/** Lines of plain text, escaped; roff's convention is one sentence (or clause) per line. */
const text = (...lines: string[]): string[] => lines.flatMap((l) => l.split("\n")).map(roff);
const isHidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden === true;
const visible = (c: Command) => c.commands.filter((s) => !isHidden(s));

/** `-c, --config <file>` as bold flags and an italic value. */
function optionTag(o: Option): string {
  return o.flags
    .split(/(<[^>]+>|\[[^\]]+\])/)
    .map((part) => (/^[<[]/.test(part) ? italic(part.slice(1, -1)) : part.split(/(,\s*|\s+)/).map((p) => (/^-/.test(p) ? bold(p) : roff(p))).join("")))
    .join("");
}

function optionItem(o: Option): string[] {
  const notes: string[] = [];
  if (o.argChoices) notes.push(`one of ${o.argChoices.map(bold).join(", ")}`);
  if (typeof o.defaultValue === "string") notes.push(`default ${bold(o.defaultValue)}`);
  return [".TP", optionTag(o), roff(o.description) + (notes.length > 0 ? ` (${notes.join("; ")})` : "")];
}

function argumentTag(a: Argument): string {
  return italic(a.name() + (a.variadic ? "..." : ""));
}

function commandSection(c: Command, path: string): string[] {
  const lines = [`.SS "${roff(`${path} ${c.name()} ${c.usage()}`)}"`, ...text(c.description())];
  for (const a of c.registeredArguments) lines.push(".TP", argumentTag(a), roff(a.description) + (a.argChoices ? ` (${a.argChoices.map(bold).join(", ")})` : ""));
  for (const o of c.options.filter((o) => !o.hidden)) lines.push(...optionItem(o));
  for (const s of visible(c)) lines.push(...commandSection(s, `${path} ${c.name()}`));
  return lines;
}

function synopsis(program: Command): string[] {
  const lines = [`${bold(program.name())} [${italic("global options")}] ${italic("command")} [${italic("options")}] [${italic("arguments")}]`];
  const walk = (c: Command, path: string) => {
    for (const s of visible(c)) {
      if (visible(s).length > 0) walk(s, `${path} ${s.name()}`);
      else lines.push(".br", `${bold(`${path} ${s.name()}`)} ${roff(s.usage())}`);
    }
  };
  walk(program, program.name());
  return lines;
}

const TARGETS: [string, string][] = [
  ["NAME", "the guest [guests.NAME] in the configuration (OpenSSH's lower-cased %h finds it too)"],
  ["vsock/CID[:PORT]", "a guest by vsock context ID on the default hypervisor, through socat there; without :PORT the vsock port is 22 (or proxy's PORT or --port)"],
  ["qemu/DOMAIN", "a libvirt domain (name, UUID or ID) on the default hypervisor: its CID is read from virsh dumpxml, asking qemu:///system, then qemu:///session"],
  ["qemu-system/DOMAIN, qemu:system/DOMAIN", "the same, asking qemu:///system only"],
  ["qemu-session/DOMAIN, qemu:session/DOMAIN", "the same, asking qemu:///session only"],
  ["vsock-mux/PATH", "a hybrid vsock Unix socket on the hypervisor (Firecracker, Cloud Hypervisor): CONNECT PORT, then OK"],
  ["unix/PATH", "a Unix stream socket on the hypervisor that carries the guest's SSH"],
];

const FILES: [string, string][] = [
  ["$XDG_CONFIG_HOME/ssh2vsock/config.toml", "default ~/.config/ssh2vsock/config.toml"],
  ["$XDG_CONFIG_DIRS/ssh2vsock/config.toml", "each directory of $XDG_CONFIG_DIRS in turn (default /etc/xdg)"],
  ["/etc/ssh2vsock/config.toml", "the system-wide file"],
  ["~/.ssh/known_hosts", "trusted for an ad-hoc target's hop when nothing else is configured"],
];

function keyItems(): string[] {
  const lines: string[] = [];
  for (const a of ATTRIBUTES) {
    const description = KEY_DESCRIPTIONS[a.name];
    if (description === undefined) throw new Error(`man page: configuration key ${a.name} has no description in KEY_DESCRIPTIONS`);
    const where = a.levels.length === 2 ? "hypervisor, guest" : a.levels[0]!;
    lines.push(".TP", `${bold(a.name)} (${roff(a.type)}; ${roff(where)})`, roff(description));
  }
  return lines;
}

export interface ManPageOptions {
  version: string;
  /** The page's date, YYYY-MM-DD. */
  date: string;
}

/**
 * The whole ssh2vsock(1) page for the command tree `program`.
 * @example manPage(buildProgram(), { version: "0.1.0", date: "2026-01-01" }).startsWith(".TH SSH2VSOCK 1") // true
 */
export function manPage(program: Command, { version, date }: ManPageOptions): string {
  const name = program.name();
  const exitItems = (Object.keys(ExitCode) as (keyof typeof ExitCode)[]).flatMap((k) => [".TP", bold(String(ExitCode[k])), roff(EXIT_MEANINGS[k])]);
  const lines = [
    `.\\" Generated by scripts/man from the command tree of ${name} ${version}; do not edit.`,
    `.TH ${name.toUpperCase()} 1 "${date}" "${roff(`${name} ${version}`)}" "User Commands"`,
    ".SH NAME",
    `${roff(name)} \\- ${roff(program.description())}`,
    ".SH SYNOPSIS",
    ...synopsis(program),
    ".SH DESCRIPTION",
    `${bold(name)} connects over SSH to a hypervisor, asks ${bold("socat")} there to open an AF_VSOCK stream to a guest,`,
    ...text(
      "and verifies the guest's host key on that stream.",
      "It offers the verified path as a local TCP tunnel, an OpenSSH ProxyCommand, or the environment of a wrapped command.",
      "Every hop's host key is checked against known_hosts entries, a known_hosts file, or DNSSEC-validated SSHFP records.",
    ),
    ".SH GLOBAL OPTIONS",
    "These options are accepted before or after the command.",
    ...program.options.filter((o) => !o.hidden).flatMap(optionItem),
    ".TP",
    `${bold("-h")}, ${bold("--help")}`,
    "print the help of the program or of a command",
    ".SH COMMANDS",
    ...visible(program).flatMap((c) => commandSection(c, name)),
    ".SH TARGETS",
    "A TARGET names a guest in one of these forms:",
    ...TARGETS.flatMap(([forms, text]) => [".TP", forms.split(", ").map(bold).join(", "), roff(text)]),
    ".PP",
    ...text(
      "In unix/ and vsock-mux/, PATH is absolute unless it starts with ./.",
      "A % may replace the first / of any form (vsock%3), and the libvirt forms have colon-free spellings,",
      "so that scp, sftp and rsync can parse the host: scp file root@qemu-system%web3:/tmp.",
      "With no configuration file at all, ad-hoc targets are reached on this machine (local hypervisor).",
    ),
    ".SH CONFIGURATION",
    ...text(
      "A TOML file with a top-level [hypervisor] table (the default hypervisor),",
      "named hypervisors in [hypervisors.NAME] and guests in [guests.NAME].",
      "Guest names use only A-Z a-z 0-9 . _ - and do not start with -.",
      "Paths accept ~ and $VAR.",
    ),
    ".PP",
    ...text(
      "Values are inherited, most specific first: the guest, its hypervisor block (inline or named),",
      "the top-level [hypervisor], the built-in default.",
      "Host key verification (known_hosts, known_hosts_file, use_sshfp, dns_resolver, ca_file, dns_tls_name, ssh_ignore_host_key)",
      "and authentication (password, ssh_private_key with its passphrase, ssh_certificate, ssh_use_agent)",
      "each come whole from the most specific level that sets any of them.",
    ),
    ".PP",
    ...text("A guest sets exactly one of cid, vsock_mux, unix_socket or domain."),
    `${bold(`${name} config check`)} ${roff("lists every problem of a file.")}`,
    ".SS Keys",
    ...keyItems(),
    ".SH FILES",
    ...text("The configuration is the file named by -c FILE, else $SSH2VSOCK_CONFIG,", "else the first of these that exists (never one in the current directory):"),
    ...FILES.flatMap(([file, what]) => [".TP", italic(file), roff(what)]),
    ".SH ENVIRONMENT",
    ...envItems(),
    ".SH EXIT STATUS",
    ...exitItems,
    ".PP",
    ...text(`Errors are one line, ${name}: what failed: why, plus a hint: line where one helps;`, "under --log-format json, one JSON object."),
    ".SH EXAMPLES",
    ".nf",
    ...text(
      `${name} tunnel web1`,
      `ssh -o ProxyCommand='${name} proxy %h %p' root@vsock/3`,
      `${name} ssh-config > ~/.ssh/config.d/${name}.conf`,
      `${name} run -- terraform apply`,
    ),
    ".fi",
    ".SH SEE ALSO",
    `${bold("ssh")}(1), ${bold("ssh_config")}(5), ${bold("sshd")}(8), ${bold("socat")}(1), ${bold("ssh-keygen")}(1), ${bold("virsh")}(1)`,
  ];
  return lines.join("\n") + "\n";
}

function envItems(): string[] {
  const vars: [string, string][] = [
    ["SSH2VSOCK_CONFIG", "the configuration file, when -c is not given (it must exist)"],
    ["XDG_CONFIG_HOME, XDG_CONFIG_DIRS", "where the configuration is searched (see FILES); relative entries are ignored"],
    ["HOME", "expands ~ in paths; ~/.ssh holds the default known_hosts and identity files"],
    ["SSH_AUTH_SOCK", "the SSH agent's socket, unless ssh_agent_sock says otherwise"],
    ["NO_COLOR", "when set and not empty, no colour"],
    ["FORCE_COLOR", "when set and not empty (and not 0 or false), colour even into a pipe"],
    ["TERM", "dumb: no colour, no spinner, questions asked line by line"],
    ["SSH2VSOCK_<NAME>_HOST, SSH2VSOCK_<NAME>_PORT", "set by run for COMMAND: each tunnel's address (NAME upper-cased, other characters as _)"],
    ["SSH2VSOCK_RUNTIME_TUNING", "off: tunnel, proxy and run do not re-execute themselves with allocator tuning"],
    ["SSH2VSOCK_DEBUG", "when set, an unexpected error also prints its stack trace"],
  ];
  return vars.flatMap(([name, text]) => [".TP", bold(name), roff(text)]);
}
