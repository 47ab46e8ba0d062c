// SSHFP over DNSSEC: resolver addresses, the TCP/TLS transport, the validated query and the
// policy that turns its records into trusted fingerprints. Import from here, not the files.

export {
  formatResolverAddress,
  parseResolverAddress,
  RESOLVER_ADDRESS_FORMS,
  resolverAddressProblem,
  type ResolverAddress,
} from "./resolver-address.ts";
export { nodeDnsDialer, type DnsDialer, type DnsTlsOptions } from "./transport.ts";
export { querySshfp, type SshfpAnswer, type SshfpQueryOptions } from "./query.ts";
export { decodeSshfpRdata, SSHFP_TYPE, type SshfpRdata } from "./sshfp-rdata.ts";
export { filterSshfp, sshfpTrust, type SshfpTrust } from "./sshfp.ts";
