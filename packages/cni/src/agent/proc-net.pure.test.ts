import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fibTrieLocalAddresses, ifInet6Addresses } from './proc-net.pure.js';

test('local IPv4 addresses come from the LOCAL leaves of fib_trie', () => {
  const trie = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.244.1.0/24 2 0 2
        |-- 10.244.1.0
           /24 link UNICAST
        |-- 10.244.1.7
           /32 host LOCAL
        |-- 10.244.1.255
           /32 link BROADCAST
     |-- 127.0.0.1
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.244.1.7
        /32 host LOCAL
`;
  assert.deepEqual(fibTrieLocalAddresses(trie), ['10.244.1.7', '127.0.0.1']);
});

test('if_inet6 addresses are printed in short form', () => {
  const text = `00000000000000000000000000000001 01 80 10 80       lo
fd000000000000000000000000000a07 02 40 00 80     eth0
fe80000000000000b4a1b2fffec3d4e5 02 40 20 80     eth0
`;
  assert.deepEqual(ifInet6Addresses(text), ['::1', 'fd00::a07', 'fe80::b4a1:b2ff:fec3:d4e5']);
});
