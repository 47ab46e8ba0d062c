// Configuration files for the lab's DNS servers (tests/lab/dns.ts): BIND authoritative, Unbound
// validating; both bound to 127.0.0.1 only, with every state file inside the lab's directory.

/** BIND as a loopback-only authoritative server for the two lab zones; no recursion, no rndc. */
export function namedConf(dir: string, port: number, signed: string, unsigned: string): string {
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer { none; };
};
controls { };
zone "${signed}" { type primary; file "${dir}/signed.zone.signed"; };
zone "${unsigned}" { type primary; file "${dir}/unsigned.zone"; };
`;
}

/**
 * Unbound as a validating resolver (TCP, UDP and DNS-over-TLS) whose only upstream is the lab's
 * BIND: the signed zone is anchored by its DS, the unsigned one declared insecure.
 */
export function unboundConf(dir: string, authPort: number, port: number, tlsPort: number, signed: string, unsigned: string): string {
  return `server:
  verbosity: 1
  interface: 127.0.0.1@${port}
  interface: 127.0.0.1@${tlsPort}
  port: ${port}
  tls-port: ${tlsPort}
  tls-service-key: "${dir}/resolver.key"
  tls-service-pem: "${dir}/resolver.pem"
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  so-reuseport: no
  num-threads: 1
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  val-permissive-mode: no
  harden-dnssec-stripped: yes
  qname-minimisation: no
  trust-anchor-file: "${dir}/dsset-${signed}."
  domain-insecure: "${unsigned}"
  # Never leave the lab: everything outside lab.test is refused, and test.'s built-in
  # RFC 6761 local zone is lifted so the stub zones below are used.
  local-zone: "." refuse
  local-zone: "test." nodefault
  local-zone: "lab.test." transparent
stub-zone:
  name: "${signed}"
  stub-addr: 127.0.0.1@${authPort}
stub-zone:
  name: "${unsigned}"
  stub-addr: 127.0.0.1@${authPort}
remote-control:
  control-enable: no
`;
}
