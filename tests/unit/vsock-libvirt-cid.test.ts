// The CID of a libvirt domain read from `virsh dumpxml` output, whatever its spelling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLibvirtVsock } from "../../src/core/vsock/libvirt-cid.ts";

const wrap = (devices: string) => `<domain type='kvm' id='4'>\n  <name>web</name>\n  <devices>\n${devices}\n  </devices>\n</domain>\n`;

const cases: Array<[string, string, ReturnType<typeof parseLibvirtVsock>]> = [
  ["single quotes, auto before address", `<vsock model='virtio'><cid auto='yes' address='3'/></vsock>`, { kind: "cid", cid: 3 }],
  ["double quotes, address first", `<vsock model="virtio">\n <cid address="42" auto="no"/>\n</vsock>`, { kind: "cid", cid: 42 }],
  ["spaces around =, explicit end tag", `<vsock><cid address = '4294967294' ></cid></vsock>`, { kind: "cid", cid: 4294967294 }],
  ["vsock with an alias and address child", `<vsock model='virtio'><cid auto='no' address='7'/><alias name='vsock0'/><address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/></vsock>`, { kind: "cid", cid: 7 }],
  ["no vsock device", `<interface type='network'><source network='default'/></interface>`, { kind: "no-vsock" }],
  ["a vsock only inside a comment", `<!-- <vsock><cid address='3'/></vsock> -->`, { kind: "no-vsock" }],
  ["auto CID of a domain that is not running", `<vsock model='virtio'><cid auto='yes'/></vsock>`, { kind: "no-address" }],
  ["empty vsock element", `<vsock model='virtio'/>`, { kind: "no-address" }],
  ["reserved CID 2", `<vsock><cid address='2'/></vsock>`, { kind: "no-address" }],
  ["VMADDR_CID_ANY", `<vsock><cid address='4294967295'/></vsock>`, { kind: "no-address" }],
  ["a non-numeric address", `<vsock><cid address='three'/></vsock>`, { kind: "no-address" }],
  ["an element merely starting with vsock", `<vsockish><cid address='5'/></vsockish>`, { kind: "no-vsock" }],
];

for (const [name, devices, want] of cases) {
  test(`reads the vsock CID: ${name}`, () => {
    assert.deepEqual(parseLibvirtVsock(wrap(devices)), want);
  });
}
