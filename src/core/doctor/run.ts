// Runs doctor's checks in DESIGN.md's order against one target; a failed check makes every
// later check that depends on it a `skip` naming the reason. Never throws, never prompts.
import type { GuestConfig, GuestTransport } from "../config/types.ts";
import type { SshHop } from "../ssh/hop.ts";
import { hopTiming } from "../tunnel/hop-timing.ts";
import { guestLabel } from "../tunnel/guest-session.ts";
import { hypervisorLabel } from "../tunnel/hypervisor-pool.ts";
import { localRunner, remoteRunner, type CommandRunner, type CommandStream } from "../vsock/command-stream.ts";
import { lookupLibvirtCid } from "../vsock/libvirt-lookup.ts";
import { describeTransport, openGuestStream } from "../vsock/open-guest-stream.ts";
import { hasAuth } from "../config/resolve.ts";
import { checkConfig } from "./config-check.ts";
import { checkConnect } from "./connect.ts";
import { checkBanner } from "./guest-banner.ts";
import { checkForward } from "./guest-forward.ts";
import { checkGuarantees } from "./guarantees.ts";
import { checkHostKey } from "./host-key.ts";
import { checkSocat, checkVhostVsock } from "./hypervisor-tools.ts";
import { checkTcp } from "./tcp.ts";
import { failFrom, pass, skip } from "./_verdict.ts";
import type { CheckResult, DoctorDeps, DoctorProgress, DoctorReport, Verdict } from "./types.ts";

/** Every check, in order; `libvirt-domain` appears only for libvirt targets. */
export const CHECK_TITLES = {
  "config": "configuration found and valid",
  "guarantees": "no guarantee weakened (listener, host key checks, SSHFP transport, readable secrets)",
  "hypervisor-tcp": "hypervisor resolves and accepts TCP",
  "hypervisor-host-key": "hypervisor host key: algorithms overlap and the key verifies",
  "hypervisor-auth": "hypervisor authentication",
  "socat": "socat present with VSOCK support",
  "vhost-vsock": "/dev/vhost-vsock present",
  "libvirt-domain": "libvirt domain found and has a CID",
  "guest-banner": "guest answers with an SSH banner",
  "guest-host-key": "guest host key: algorithms overlap and the key verifies",
  "guest-auth": "guest authentication",
  "guest-forward": "guest forwards to the tunnel target (forward mode)",
} as const;

export type CheckId = keyof typeof CHECK_TITLES;

const SPLICE_NO_FORWARD = "splice mode: connections go to the guest's SSH port, checked by the handshake inspector; no forwarding needed";

/** Records results in order and remembers why later checks must be skipped. */
class Recorder {
  readonly checks: CheckResult[] = [];
  #blocked?: string;
  constructor(private readonly onProgress?: (p: DoctorProgress) => void) {}

  /** Runs `body` unless an earlier check blocks it; a failure blocks what follows when `blocking`. */
  async step<T extends { verdict: Verdict }>(id: CheckId, body: () => Promise<T> | T, blocking = true): Promise<T | undefined> {
    if (this.#blocked) {
      this.record(id, skip(this.#blocked));
      return undefined;
    }
    this.onProgress?.({ kind: "start", id, title: CHECK_TITLES[id] });
    let out: T;
    try {
      out = await body();
    } catch (e) {
      out = { verdict: failFrom(e) } as T;
    }
    this.record(id, out.verdict);
    if (out.verdict.status === "fail" && blocking) this.block(id);
    return out.verdict.status === "fail" ? undefined : out;
  }

  /** Makes every later check a skip because `id` failed. */
  block(id: CheckId): void {
    this.#blocked ??= `skipped: "${CHECK_TITLES[id]}" failed`;
  }

  record(id: CheckId, v: Verdict): void {
    const result: CheckResult = { id, title: CHECK_TITLES[id], ...v };
    this.checks.push(result);
    this.onProgress?.({ kind: "done", result });
  }
}

/**
 * Runs every check for `target` (the only configured guest when undefined) and returns the
 * report. Connections it opened are closed before it returns.
 * @example const report = await runDoctor("web1", deps, (p) => p.kind === "done" && print(p.result))
 */
export async function runDoctor(target: string | undefined, deps: DoctorDeps, onProgress?: (p: DoctorProgress) => void): Promise<DoctorReport> {
  const r = new Recorder(onProgress);
  const cleanup: (() => void)[] = [];
  let name: string | null = target ?? null;
  try {
    const cfg = await r.step("config", () => checkConfig(target, deps));
    if (cfg?.guest) name = cfg.guest.name;
    await r.step("guarantees", () => checkGuarantees(cfg!.guest!, deps), false);
    await runHops(r, cfg?.guest, deps, cleanup);
  } finally {
    for (const c of cleanup.reverse()) c();
  }
  return { target: name, checks: r.checks, ok: !r.checks.some((c) => c.status === "fail") };
}

async function runHops(r: Recorder, guest: GuestConfig | undefined, deps: DoctorDeps, cleanup: (() => void)[]): Promise<void> {
  const hv = guest?.hypervisor;
  const hvTimeout = hv ? hopTiming(hv).readyTimeoutMs : 0;
  let runner: CommandRunner | undefined;
  if (hv?.local) {
    const why = "local hypervisor: no SSH hop, commands run on this machine";
    for (const id of ["hypervisor-tcp", "hypervisor-host-key", "hypervisor-auth"] as const) r.record(id, skip(why));
    runner = localRunner();
  } else {
    const label = hv ? hypervisorLabel(hv) : "hypervisor";
    const host = hv?.hostname ?? "";
    const port = hv?.port ?? 22;
    await r.step("hypervisor-tcp", async () => ({ verdict: await checkTcp(host, port, hvTimeout) }));
    const hk = await r.step("hypervisor-host-key", () =>
      checkHostKey(
        { hop: "hypervisor", label, verification: hv!.verification, host, port, timeoutMs: hvTimeout, openTransport: async () => ({ host, port }) },
        deps,
      ),
    );
    const conn = await r.step("hypervisor-auth", () => checkConnect(label, hv!, { host, port }, hk!.policy!, hk!.pending, deps.io, deps.knownHostsFs));
    if (conn?.hop) {
      const hop: SshHop = conn.hop;
      cleanup.push(() => hop.close());
      runner = remoteRunner(hop);
    }
  }

  let transport: GuestTransport | undefined = guest?.transport;
  const socat = await r.step("socat", async () => ({ verdict: await checkSocat(runner!, hv!.socat, hvTimeout) }), false);
  // The device is worth checking even without socat; the guest checks are not.
  const socatFailed = socat === undefined && r.checks.at(-1)?.status === "fail";
  await r.step("vhost-vsock", async () => ({ verdict: await checkVhostVsock(runner!, hvTimeout) }), false);
  if (socatFailed) r.block("socat");
  if (transport?.kind === "libvirt") {
    const t = transport;
    const found = await r.step("libvirt-domain", async () => {
      const { cid, uri } = await lookupLibvirtCid({ runner: runner!, domain: t.domain, uri: t.uri, label: guestLabel(guest!), timeoutMs: hvTimeout });
      return { verdict: pass(`libvirt domain ${t.domain} (${uri} on ${runner!.where}) has vsock CID ${cid}`), cid };
    });
    // Later checks reach the CID found here instead of asking virsh again.
    if (found) transport = { kind: "vsock", cid: found.cid, port: t.port };
  }

  const g = guest!;
  const guestTimeout = guest ? hopTiming(guest.hop).readyTimeoutMs : 0;
  const openRelay = async (): Promise<CommandStream> => {
    const relay = await openGuestStream(transport!, {
      runner: runner!,
      socat: hv!.socat,
      label: `${guestLabel(g)} (${describeTransport(transport!)})`,
      timeoutMs: guestTimeout,
    });
    cleanup.push(() => relay.kill());
    return relay;
  };
  await r.step("guest-banner", async () => ({ verdict: await checkBanner(transport!, openRelay) }));
  const label = guest ? guestLabel(guest) : "guest";
  const hk = await r.step("guest-host-key", () =>
    checkHostKey(
      {
        hop: "guest",
        label,
        verification: g.hop.verification,
        host: g.hop.hostname,
        port: g.hop.port,
        timeoutMs: guestTimeout,
        openTransport: async () => ({ stream: (await openRelay()).stream }),
        inspected: g.mode === "splice",
      },
      deps,
    ),
  );
  // Splice mode needs no guest session: the connecting client authenticates itself.
  if (guest?.mode === "splice" && !hasAuth(guest.hop.auth)) {
    const kept = hk?.pending ? `; the key you accepted was NOT added to ${hk.pending.file}: recording it needs a completed handshake (add guest credentials, or run keyscan)` : "";
    await r.step("guest-auth", () => ({ verdict: skip(`splice mode: the client that connects authenticates itself; no guest credentials configured${kept}`) }));
    await r.step("guest-forward", () => ({ verdict: skip(SPLICE_NO_FORWARD) }));
    return;
  }
  // A splice guest trusted only by a CA: ssh2's own session cannot see its certificate, so
  // credentials cannot be tried here; the connecting client (which can) authenticates itself.
  if (guest?.mode === "splice" && hk?.policy && hk.policy.algorithms.length === 0 && hk.policy.anchors.certAuthorities.length > 0) {
    await r.step("guest-auth", () => ({
      verdict: skip("splice mode: only a @cert-authority line trusts this guest, and ssh2vsock's own session sees only plain host keys; the connecting client authenticates itself"),
    }));
    await r.step("guest-forward", () => ({ verdict: skip(SPLICE_NO_FORWARD) }));
    return;
  }
  const conn = await r.step("guest-auth", async () => {
    const relay = await openRelay();
    return checkConnect(label, g.hop, { stream: relay.stream }, hk!.policy!, hk!.pending, deps.io, deps.knownHostsFs);
  });
  if (conn?.hop) cleanup.push(() => conn.hop!.close());
  if (guest?.mode === "splice") {
    await r.step("guest-forward", () => ({ verdict: skip(SPLICE_NO_FORWARD) }));
    return;
  }
  await r.step("guest-forward", async () => ({ verdict: await checkForward(conn!.hop!, g.target) }));
}
