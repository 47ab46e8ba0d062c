// Validation (DESIGN.md "Validation errors"): every problem in a parsed configuration at once,
// each naming the file, the attribute path and the rule, then one ConfigError listing them all.

import { isIP } from "node:net";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { checkBlock, describe, isTable, type Report } from "./_check-block.ts";
import { didYouMean } from "./_suggest.ts";
import { hostPortProblem } from "./host-port.ts";
import { modeFor, spliceTargetProblem } from "./mode.ts";
import {
  guestModeSetting,
  type HypervisorChain,
  hasAuth,
  hasVerification,
  hypervisorChain,
  isTemplate,
  keyPath,
  type ResolveContext,
  resolveGuestHop,
  resolveHypervisor,
  type Table,
} from "./resolve.ts";
import { attributeSpec, TOP_LEVEL_KEYS } from "./schema.ts";
import type { HopConfig } from "./types.ts";

/**
 * Every problem in a parsed configuration (per-block rules first, then per-hop rules); empty
 * when it is valid.
 * @example validateConfig({ guests: { web1: { cid: 2 } } }, "/etc/ssh2vsock/config.toml", ctx)[0].path // "guests.web1.cid"
 */
export function validateConfig(raw: Table, file: string, ctx: ResolveContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // Table names and values are quoted into paths and messages as the file spells them: a control
  // character in either must not reach the terminal raw.
  const report: Report = (path, message) =>
    problems.push({ file, path: escapePeerText(path, 200), message: escapePeerText(message, 1000) });
  const clean = checkStructure(raw, report);
  checkHops(clean, ctx, report);
  return problems;
}

/** Throws one ConfigError carrying every problem, when there are any. */
export function assertValid(raw: Table, file: string, ctx: ResolveContext): void {
  const problems = validateConfig(raw, file, ctx);
  if (problems.length === 0) return;
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  throw new ConfigError("invalid configuration", problems, {
    hint: `fix the ${count} listed in ${file}; \`ssh2vsock config check\` shows them again`,
  });
}

/**
 * One problem as a line: `<file>: <path>: <rule>`, or `<file>:<line>:<column>: <rule>` for syntax.
 * @example formatProblem({ file: "c.toml", path: "guests.web1.cid", message: "cid 2 is outside 3 … 4294967294" })
 */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return p.path === "" ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** What a guest may be called: safe as a shell word, a Host pattern and a target (no "/" or "%"). */
export const GUEST_NAME = /^(?!-)[A-Za-z0-9._-]+$/;

// Known, well-typed attributes only, so hop checks never repeat a type error as another rule.
function checkStructure(raw: Table, report: Report): Table {
  const clean: Table = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "hypervisor") {
      const top = checkBlock("hypervisor", value, "hypervisor", report);
      if (top) clean.hypervisor = top;
    } else if (key === "hypervisors" || key === "guests") {
      clean[key] = checkTableOf(key, value, key === "guests" ? "guest" : "hypervisor", report);
    } else if (attributeSpec(key)) {
      report(key, `"${key}" must be inside [hypervisor], [hypervisors.NAME] or [guests.NAME]`);
    } else {
      report(key, `unknown attribute "${key}"${didYouMean(key, TOP_LEVEL_KEYS)}`);
    }
  }
  return clean;
}

function checkTableOf(key: string, value: unknown, level: "guest" | "hypervisor", report: Report): Table {
  const out: Table = {};
  if (!isTable(value)) {
    report(key, `wrong type: expected a table of named tables, found ${describe(value)}`);
    return out;
  }
  for (const [name, block] of Object.entries(value)) {
    if (level === "guest" && !GUEST_NAME.test(name)) {
      // Guest names reach shells (completion candidates) and ssh_config Host lines as they are.
      const shown = escapePeerText(JSON.stringify(name), 120);
      report(keyPath(key, name), `guest name ${shown} may only contain letters, digits, ".", "_" and "-", and may not start with "-"`);
      continue;
    }
    const checked = checkBlock(keyPath(key, name), block, level, report);
    if (checked) out[name] = checked;
  }
  return out;
}

function checkHops(clean: Table, ctx: ResolveContext, report: Report): void {
  const top = clean.hypervisor as Table | undefined;
  const topBlocks = top ? [{ path: "hypervisor", attrs: top }] : [];
  // A top-level [hypervisor] without hostname is a set of defaults, not a hop of its own.
  if (top && !isTemplate(top)) checkHypervisorHop("hypervisor", { name: "default", blocks: topBlocks }, ctx, report);
  const named = (clean.hypervisors as Record<string, Table> | undefined) ?? {};
  for (const [name, attrs] of Object.entries(named)) {
    const path = keyPath("hypervisors", name);
    checkHypervisorHop(path, { name, blocks: [{ path, attrs }, ...topBlocks] }, ctx, report);
  }
  const guests = (clean.guests as Record<string, Table> | undefined) ?? {};
  for (const [name, guest] of Object.entries(guests)) {
    const path = keyPath("guests", name);
    const chain = hypervisorChain(clean, path, guest);
    if (!chain) {
      const ref = guest.hypervisor as string;
      report(`${path}.hypervisor`, `no hypervisor named "${ref}"${didYouMean(ref, Object.keys(named))}: define [hypervisors.${ref}]`);
      continue;
    }
    if (chain.name === "inline") checkHypervisorHop(`${path}.hypervisor`, chain, ctx, report);
    if (chain.name === "default" && top && isTemplate(top)) {
      report(
        `${path}.hypervisor`,
        "no hypervisor: [hypervisor] has no hostname; set hostname (or local = true) there, or name one of [hypervisors.*]",
      );
    }
    checkGuestHop(path, guest, chain, ctx, report);
  }
}

function checkHypervisorHop(path: string, chain: HypervisorChain, ctx: ResolveContext, report: Report): void {
  const hv = resolveHypervisor(chain, ctx);
  if (hv.local) return;
  if (hv.hostname === undefined) report(`${path}.hostname`, "missing: a hypervisor needs hostname unless local = true");
  checkHop(path, hv, "hypervisor", report);
}

function checkGuestHop(path: string, guest: Table, chain: HypervisorChain, ctx: ResolveContext, report: Report): void {
  const hop = resolveGuestHop(path, guest, chain, ctx);
  if (hop.hostname === undefined && !hop.verification.ignoreHostKey) {
    report(
      `${path}.hostname`,
      "missing: a guest needs hostname (the name its host key is checked under) unless ssh_ignore_host_key = true",
    );
  }
  // A malformed target is reported on its own; the mode rules only judge one that parses.
  const parsed = typeof guest.target === "string" ? hostPortProblem(guest.target, 1) : undefined;
  const target = typeof parsed === "object" ? parsed : undefined;
  const setting = guestModeSetting(path, guest, chain);
  const problem = setting?.mode === "splice" ? spliceTargetProblem(target, hop.port) : undefined;
  if (problem !== undefined) {
    // Named at the guest even when a hypervisor block set it: the guest is where the fix goes.
    const inherited = setting!.origin === `${path}.mode` ? "" : ` (mode = "splice" comes from ${setting!.origin})`;
    report(`${path}.mode`, `${problem}${inherited}`);
  }
  // In splice mode the client that connects logs into the guest; ssh2vsock never does.
  const needsAuth = modeFor(target, hop.port, setting?.mode) === "forward";
  checkHop(path, hop, "guest", report, needsAuth);
}

function checkHop(path: string, hop: HopConfig, what: "hypervisor" | "guest", report: Report, needsAuth = true): void {
  const where = what === "guest" ? "on the guest or its hypervisor" : "here or in [hypervisor]";
  if (!hasVerification(hop.verification)) {
    report(path, `no host key verification for the ${what}: set known_hosts, known_hosts_file or use_sshfp ${where}`);
  }
  if (needsAuth && !hasAuth(hop.auth)) {
    const why = what === "guest" ? " (forward mode logs into the guest; splice mode needs no guest credentials)" : "";
    report(path, `no authentication for the ${what}: set password, ssh_private_key or ssh_use_agent = true ${where}${why}`);
  }
  const v = hop.verification;
  if (v.useSshfp && hop.hostname !== undefined && isIP(hop.hostname) !== 0) {
    const at = v.origin === path ? `${path}.use_sshfp` : `${path}.hostname`;
    report(at, `use_sshfp with an IP address as hostname ("${hop.hostname}"): SSHFP records are found by DNS name`);
  }
}
