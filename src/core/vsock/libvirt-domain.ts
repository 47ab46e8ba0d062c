// What a libvirt domain may be called here: a name, a UUID or an ID, in characters that mean
// nothing to any shell the hypervisor's sshd may run `virsh` through (sh, bash, zsh, fish).

/** Names (letters, digits, `.`, `_`, `+`, `-`), UUIDs and IDs all fit in this set. */
const DOMAIN = /^[A-Za-z0-9._+-]{1,200}$/;

/** For messages: the forms a domain may take. */
export const LIBVIRT_DOMAIN_FORMS = 'a libvirt domain is a name (letters, digits, ".", "_", "+" and "-"), a UUID or an ID';

/**
 * Undefined when `domain` is acceptable, else the reason. Quotes, backslashes, spaces and `$`
 * never reach the hypervisor: under fish, `\'` inside single quotes ends no string, so quoting
 * alone cannot make such a name safe on every login shell.
 * @example libvirtDomainProblem("web3") // undefined
 * @example libvirtDomainProblem("x'; touch /tmp/p #") // "a libvirt domain is a name (…), a UUID or an ID"
 */
export function libvirtDomainProblem(domain: string): string | undefined {
  return DOMAIN.test(domain) ? undefined : LIBVIRT_DOMAIN_FORMS;
}
