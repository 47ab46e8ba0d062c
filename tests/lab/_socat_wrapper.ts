// The hypervisor's `socat` in the lab: VSOCK-CONNECT:CID:PORT becomes a TCP connection to the
// loopback of the CID's network namespace; every other invocation goes to the real socat.

/**
 * Bash source of the wrapper. `cids` maps CID -> namespace. An unknown CID fails the way real
 * socat does on a host without that CID: one socat-style error line on stderr, exit 1.
 */
export function socatWrapperScript(opts: { realSocat: string; ip: string; cids: Map<number, string> }): string {
  const cases = [...opts.cids]
    .map(([cid, ns]) => `      ${cid}) ns=${shellQuote(ns)} ;;`)
    .join("\n");
  return `#!/bin/bash
# ssh2vsock lab: socat stand-in for the hypervisor (tests/lab/_socat_wrapper.ts generated it).
# VSOCK-CONNECT:CID:PORT -> TCP:127.0.0.1:PORT,nodelay inside the CID's network namespace.
real=${shellQuote(opts.realSocat)}
args=("$@")
ns=""
shopt -s nocasematch
for i in "\${!args[@]}"; do
  if [[ \${args[$i]} =~ ^vsock-connect:([0-9]+):([0-9]+)(,.*)?$ ]]; then
    cid=\${BASH_REMATCH[1]}
    port=\${BASH_REMATCH[2]}
    case $cid in
${cases}
      *)
        printf '%s socat[%d] E connect(5, AF=40 cid:%s port:%s, 16): No such device\\n' \\
          "$(date '+%Y/%m/%d %H:%M:%S')" "$$" "$cid" "$port" >&2
        exit 1 ;;
    esac
    # nodelay: AF_VSOCK has no Nagle algorithm; without it the stand-in would hold small
    # segments for the guest's delayed ACK (40 ms), an artefact of TCP, not of vsock.
    args[$i]="TCP:127.0.0.1:$port,nodelay"
  fi
done
shopt -u nocasematch
if [[ -n $ns ]]; then
  exec ${shellQuote(opts.ip)} netns exec "$ns" "$real" "\${args[@]}"
fi
exec "$real" "$@"
`;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
