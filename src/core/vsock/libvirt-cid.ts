// Reads a guest's vsock CID from libvirt's domain XML (`virsh dumpxml`): the `address` of
// `<devices><vsock><cid …/></vsock>`, whatever the attribute order or quote style.

/** What a domain's XML says about its vsock device. */
export type LibvirtVsock =
  | { kind: "cid"; cid: number }
  /** No `<vsock>` element at all. */
  | { kind: "no-vsock" }
  /** A `<vsock>` whose CID is not (yet) known: `auto='yes'` on a domain that is not running. */
  | { kind: "no-address" };

/**
 * @example parseLibvirtVsock(`<domain><devices><vsock model="virtio"><cid auto="no" address="3"/></vsock></devices></domain>`)
 * // { kind: "cid", cid: 3 }
 */
export function parseLibvirtVsock(xml: string): LibvirtVsock {
  // Comments and CDATA may hold anything, including text that looks like a <vsock>.
  const text = xml.replace(/<!--[\s\S]*?-->/g, "").replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "");
  const vsock = /<vsock(?:\s[^>]*)?(?:\/>|>([\s\S]*?)<\/vsock\s*>)/.exec(text);
  if (!vsock) return { kind: "no-vsock" };
  const cid = /<cid(\s[^>]*?)\/?>/.exec(vsock[1] ?? "");
  if (!cid) return { kind: "no-address" };
  const address = attributes(cid[1] ?? "").get("address");
  if (address === undefined || !/^\s*[0-9]{1,10}\s*$/.test(address)) return { kind: "no-address" };
  const n = Number(address);
  // 0-2 are reserved (hypervisor, local, host); 0xFFFFFFFF is VMADDR_CID_ANY.
  if (n < 3 || n > 4294967294) return { kind: "no-address" };
  return { kind: "cid", cid: n };
}

/** Attributes of one start tag: `a='1' b = "2"` → {a: "1", b: "2"} (entities left as written). */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out.set(m[1]!, m[2] ?? m[3] ?? "");
  }
  return out;
}
