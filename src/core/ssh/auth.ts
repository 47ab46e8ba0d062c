// Turns a hop's authentication group into ssh2 connect options, checking the private key (and its
// user certificate) up front so a wrong passphrase or unusable file is an AuthError, not a stack trace.
import ssh2 from "./ssh2.ts";
import type { AuthMethod, AuthenticationType, BaseAgent, ParsedKey } from "ssh2";
import type { HopAuth } from "../config/types.ts";
import { AuthError } from "../errors.ts";
import { certificateKey } from "./_ssh2-certificate-auth.ts";
import { CertificateAgent } from "./certificate-agent.ts";
import { loadUserCertificate, type UserCertificate } from "./user-certificate.ts";
import { errnoText } from "../errno-text.ts";

/** The subset of ssh2's ConnectConfig that carries credentials. Holds secrets: never log it. */
export interface Ssh2AuthOptions {
  password?: string;
  privateKey?: Buffer;
  passphrase?: string;
  /** The agent: ssh2's OpenSSH agent client, extended to offer the user certificates it holds. */
  agent?: string | BaseAgent;
  /**
   * Exactly the methods this hop is configured for, in order. With a user certificate its
   * attempt comes first (an object carrying the certificate key), then the plain key, as OpenSSH does.
   */
  authHandler: AuthenticationType[] | AuthMethod[];
  /** The user certificate offered, for the hint when the server refuses it. */
  userCertificate?: UserCertificate;
}

/** Reads a private key file; injected so tests and other runtimes can supply their own. */
export type ReadFile = (path: string) => Buffer;

/**
 * Builds ssh2 credentials for one hop; `username` is the login name (a certificate attempt names it).
 * @example authOptions({ useAgent: true, agentSock: "/run/agent", origin: "hypervisor" }, readFileSync, "hypervisor", "root")
 */
export function authOptions(auth: HopAuth, readFile: ReadFile, hopLabel: string, username: string): Ssh2AuthOptions {
  // Only built-in defaults combine a key with the agent (validation allows one mechanism per
  // block): then an unusable default key is skipped in favour of the agent.
  const agent = auth.useAgent && auth.agentSock ? agentOptions(auth, readFile, hopLabel) : undefined;
  if (auth.privateKeyFile !== undefined) {
    try {
      const key = keyOptions(auth, auth.privateKeyFile, readFile, hopLabel, username);
      if (!agent) return key;
      return { ...key, agent: agent.agent, authHandler: appendAgent(key.authHandler, agent.agent!, username) };
    } catch (e) {
      if (!agent) throw e;
      return agent;
    }
  }
  if (auth.password !== undefined) return { password: auth.password, authHandler: ["password", "keyboard-interactive"] };
  if (auth.useAgent) return agentOptions(auth, readFile, hopLabel);
  throw new AuthError(`${hopLabel}: no authentication method configured`, {
    hint: "set one of password, ssh_private_key or ssh_use_agent",
  });
}

function keyOptions(auth: HopAuth, file: string, readFile: ReadFile, hopLabel: string, username: string): Ssh2AuthOptions {
  let data: Buffer;
  try {
    data = readFile(file);
  } catch (e) {
    throw new AuthError(`${hopLabel}: cannot read private key ${file}: ${errnoText(e)}`, {
      hint: `check ${auth.origin}.ssh_private_key`,
    });
  }
  const parsed = ssh2.utils.parseKey(data, auth.passphrase);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase|decrypt/i.test(parsed.message);
    throw new AuthError(`${hopLabel}: cannot use private key ${file}: ${parsed.message}`, {
      hint: encrypted
        ? `the passphrase (${auth.origin}.ssh_private_key_passphrase) is missing or wrong`
        : "supported formats are OpenSSH, PEM (PKCS#1/SEC1) and PPK; convert with `ssh-keygen -p -f KEY`",
    });
  }
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
  const certificate = loadUserCertificate(auth, key.getPublicSSH(), readFile, hopLabel);
  const plain: Ssh2AuthOptions = { privateKey: data, passphrase: auth.passphrase, authHandler: ["publickey"] };
  if (!certificate) return plain;
  // ssh2 takes one private key per connection: several attempts need one object each.
  const attempts: AuthMethod[] = [
    { type: "publickey", username, key: certificateKey(key, certificate.cert.blob, certificate.cert.type) } as AuthMethod,
    { type: "publickey", username, key: data, passphrase: auth.passphrase } as AuthMethod,
  ];
  return { ...plain, authHandler: attempts, userCertificate: certificate };
}

function appendAgent(methods: AuthenticationType[] | AuthMethod[], agent: string | BaseAgent, username: string): AuthenticationType[] | AuthMethod[] {
  if (methods.every((m) => typeof m === "string")) return [...(methods as AuthenticationType[]), "agent"];
  return [...(methods as AuthMethod[]), { type: "agent", username, agent } as AuthMethod];
}

function agentOptions(auth: HopAuth, readFile: ReadFile, hopLabel: string): Ssh2AuthOptions {
  if (!auth.agentSock) {
    throw new AuthError(`${hopLabel}: ssh_use_agent is set but no agent socket is known`, {
      hint: "start ssh-agent (SSH_AUTH_SOCK) or set ssh_agent_sock",
    });
  }
  // ssh_certificate beside ssh_use_agent: a certificate whose private key the agent holds.
  const certificate = auth.privateKeyFile === undefined ? loadUserCertificate(auth, undefined, readFile, hopLabel) : undefined;
  const options: Ssh2AuthOptions = { agent: new CertificateAgent(auth.agentSock, certificate?.cert), authHandler: ["agent"] };
  if (certificate) options.userCertificate = certificate;
  return options;
}
