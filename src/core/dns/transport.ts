// How a DNS query reaches its resolver: a stream over TCP, or over TLS verified against the
// CAs of `ca_file` alone. Raw socket and TLS errors become HostKeyErrors here and only here.

import { connect as tcpConnect, isIP, type Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { HostKeyError } from "../errors.ts";
import { chainReachesCa, loadCaFile, type CaBundle } from "./_ca.ts";
import { formatResolverAddress, type ResolverAddress } from "./resolver-address.ts";

/** TLS settings for DNS-over-TLS: trust only `caFile`; check `servername` (else the resolver's IP). */
export interface DnsTlsOptions {
  caFile: string;
  servername?: string;
}

/** Opens one byte stream to a resolver; the stream is ready (TLS verified) when the promise resolves. */
export interface DnsDialer {
  connect(addr: ResolverAddress, opts: { tls?: DnsTlsOptions; signal: AbortSignal }): Promise<Duplex>;
}

// OpenSSL verification codes meaning "this chain does not lead to a CA we were given".
const UNTRUSTED_CHAIN = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed",
};

/** The production dialer: node:net for TCP, node:tls for DNS-over-TLS. Never falls back to plain DNS. */
export const nodeDnsDialer: DnsDialer = {
  async connect(addr, opts) {
    const label = formatResolverAddress(addr);
    if (opts.signal.aborted) throw opts.signal.reason;
    if (!opts.tls) {
      const socket = tcpConnect({ host: addr.host, port: addr.port, family: addr.family });
      return settle(socket, "connect", label, opts.signal, undefined);
    }
    const tlsOpts = opts.tls;
    const bundle = loadCaFile(tlsOpts.caFile);
    // The identity to find in the certificate: dns_tls_name, else the IP we dialled (zone dropped).
    const identity = tlsOpts.servername ?? addr.host.replace(/%.*$/, "");
    let socket: TLSSocket;
    try {
      socket = tlsConnect({
        host: addr.host,
        port: addr.port,
        ca: bundle.pem,
        rejectUnauthorized: true,
        // SNI must not be an IP literal (RFC 6066); the IP case is checked below instead.
        ...(tlsOpts.servername && isIP(tlsOpts.servername) === 0 ? { servername: tlsOpts.servername } : {}),
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(identity, cert),
      });
    } catch (err) {
      // The TLS context is built synchronously: a PEM block that is not a certificate fails here.
      throw new HostKeyError("dns-ca-file", `cannot use ca_file ${tlsOpts.caFile}: ${(err as Error).message}`, {
        hint: "ca_file must hold the PEM certificate(s) of the CA that issued the resolver's certificate",
        cause: err,
      });
    }
    return settle(socket, "secureConnect", label, opts.signal, { caFile: tlsOpts.caFile, identity, bundle });
  },
};

/** Resolves once `readyEvent` fires; translates every earlier failure exactly once. */
function settle(
  socket: Socket,
  readyEvent: "connect" | "secureConnect",
  label: string,
  signal: AbortSignal,
  tls: { caFile: string; identity: string; bundle: CaBundle } | undefined,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let tcpUp = false;
    const cleanup = () => {
      socket.off("error", onError);
      socket.off(readyEvent, onReady);
      signal.removeEventListener("abort", onAbort);
    };
    const onReady = () => {
      cleanup();
      // Checked before the stream is handed out, so no query is sent to an unverified resolver.
      if (tls && !chainReachesCa((socket as TLSSocket).getPeerCertificate(true), tls.bundle.certs)) {
        socket.destroy();
        reject(
          new HostKeyError(
            "dns-tls-certificate",
            `certificate of DNS resolver ${label} not signed by a CA in ${tls.caFile}: its chain does not lead to a certificate in that file`,
            { hint: "ca_file must hold the CA that issued the resolver's certificate" },
          ),
        );
        return;
      }
      resolve(socket);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(translate(err, label, tls, tcpUp));
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    socket.once("connect", () => {
      tcpUp = true;
    });
    socket.once(readyEvent, onReady);
    socket.on("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function translate(
  err: Error,
  label: string,
  tls: { caFile: string; identity: string } | undefined,
  tcpUp: boolean,
): HostKeyError {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const network = NETWORK_REASONS[code];
  if (tls && UNTRUSTED_CHAIN.has(code)) {
    return new HostKeyError(
      "dns-tls-certificate",
      `certificate of DNS resolver ${label} not signed by a CA in ${tls.caFile}: ${err.message}`,
      { hint: "ca_file must hold the CA that issued the resolver's certificate", cause: err },
    );
  }
  if (tls && code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new HostKeyError(
      "dns-tls-certificate",
      `certificate of DNS resolver ${label} is not valid for ${tls.identity}: ${err.message}`,
      { hint: "set dns_tls_name to a name in the resolver's certificate, or give it an IP SAN", cause: err },
    );
  }
  if (tls && (tcpUp || !network)) {
    return new HostKeyError("dns-tls-certificate", `TLS with DNS resolver ${label} failed: ${err.message}`, {
      hint: `check that ${label} serves DNS-over-TLS and that its certificate is valid under ${tls.caFile}`,
      cause: err,
    });
  }
  return new HostKeyError("dns-unreachable", `cannot reach DNS resolver ${label}: ${network ?? err.message}`, {
    hint: `check dns_resolver: is a resolver listening on ${label} over ${tls ? "TLS" : "TCP"}?`,
    cause: err,
  });
}
