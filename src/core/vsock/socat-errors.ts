// Reads socat's stderr (and the shell's) after a relay failed, and names the likely cause:
// no VM with that CID, nothing listening in the guest, socat missing or without VSOCK support.
import { RelayError } from "../errors.ts";
import { lastPeerLine } from "../peer-text.ts";

/** The three ways to make a guest's sshd reachable on vsock (DESIGN.md, doctor). */
export const GUEST_FIXES =
  "in the guest, listen on vsock: systemd >= 256 systemd-ssh-generator, a socket unit with ListenStream=vsock::22, or `socat VSOCK-LISTEN:22,reuseaddr,fork TCP:localhost:22`";

/** Builds the RelayError for a relay command that ended before the guest greeted. */
export function explainSocatFailure(label: string, stderr: string, exitCode: number | null): RelayError {
  const reason = lastPeerLine(stderr);
  const said = reason ? `: ${reason}` : exitCode === null ? "" : ` (exit status ${exitCode})`;
  if (exitCode === 127 || /not found|No such file or directory.*socat/i.test(reason)) {
    return new RelayError(`${label}: socat is not installed${said}`, {
      hint: "install socat >= 1.7.4 (VSOCK support) there, or set `socat` to its path in the hypervisor's config",
    });
  }
  if (/No such device|ENODEV|Cannot assign requested address/i.test(reason)) {
    return new RelayError(`${label}: no VM answers on that CID${said}`, {
      hint: "check the CID (virsh dumpxml DOMAIN | grep cid) and that the VM has a vsock device (-device vhost-vsock-pci,guest-cid=N or libvirt's <vsock>)",
    });
  }
  if (/Connection refused|Connection reset|ECONNREFUSED|ECONNRESET/i.test(reason)) {
    return new RelayError(`${label}: nothing is listening on that port in the guest${said}`, { hint: GUEST_FIXES });
  }
  if (/Address family not supported|unknown device\/address|wrong number of parameters/i.test(reason)) {
    return new RelayError(`${label}: socat or the kernel lacks VSOCK support${said}`, {
      hint: "socat >= 1.7.4 and the vhost_vsock module are needed on the hypervisor",
    });
  }
  if (/timed out|ETIMEDOUT/i.test(reason)) {
    return new RelayError(`${label}: the guest did not accept the connection in time${said}`, { hint: GUEST_FIXES });
  }
  return new RelayError(`${label}: the relay closed before the guest's SSH banner${said}`, { hint: GUEST_FIXES });
}
