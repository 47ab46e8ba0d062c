// Public API of src/core/hostkeys: everything that decides which host keys are trusted and
// generates known_hosts and SSHFP text. Import from here, not from the individual files.

export * from "./types.ts";
export {
  decodePublicKey,
  ecdsaCurveOf,
  fingerprintSha256,
  keyTypeOfBlob,
  parsePublicKeyText,
  publicKeyText,
  sameKey,
  type ParsedPublicKey,
} from "./keys.ts";
export {
  parseKnownHosts,
  type HostField,
  type HostPattern,
  type KnownHostsEntry,
  type ParsedKnownHosts,
} from "./known-hosts-parse.ts";
export { entryMatchesHost, hostFieldMatches, knownHostsName, wildcardMatch } from "./host-match.ts";
export { anchorsFromKnownHosts, mergeAnchors } from "./select.ts";
export { verifyHostKey, type CertificateContext } from "./verify.ts";
export { hostKeyErrorFor, type RefusedVerdict } from "./host-key-error.ts";
export {
  ALL_SAFE_HOST_KEY_ALGORITHMS,
  certificateAlgorithmsFor,
  describeAlgorithmMismatch,
  hostKeyAlgorithmsFor,
  keyTypeOfAlgorithm,
} from "./algorithms.ts";
export { hashHostName, knownHostsLine } from "./known-hosts-line.ts";
export { sshfpAlgorithmOf, sshfpRecordsFor, sshfpZoneLine, type SshfpRecord } from "./sshfp.ts";
export {
  certifiedKeyType,
  describeCertificate,
  FOREVER,
  isCertificateType,
  keyFingerprint,
  parseCertificate,
  type SshCertificate,
} from "./certificate.ts";
export { verifyCertificateSignature } from "./certificate-signature.ts";
export {
  checkHostCertificate,
  checkUserCertificate,
  principalsName,
  type CertificateFailure,
  type HostCertificateCheck,
  type HostCertificateContext,
} from "./certificate-check.ts";
