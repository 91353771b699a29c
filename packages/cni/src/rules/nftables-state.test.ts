import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inpodNftablesRules, NFT_INPOD_TABLES } from './inpod-nftables.js';
import { nftDrift, nftListCounts, nftRemoval, nftScriptCounts } from './nftables-state.js';

// The shape `nft list ruleset` prints (trimmed): tables, chains with a type line, one rule per line.
const listing = `table inet istio-ambient-nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump istio-prerouting
	}
	chain output {
		type nat hook output priority -100; policy accept;
		jump istio-output
	}
	chain istio-prerouting {
		meta l4proto tcp ip saddr 169.254.7.127 counter packets 0 bytes 0 accept
		ip daddr != 127.0.0.1 tcp dport != 15008 meta mark & 0x00000fff != 0x00000539 counter packets 0 bytes 0 redirect to :15006
	}
	chain istio-output {
		meta l4proto tcp ip daddr 169.254.7.127 counter packets 0 bytes 0 accept
		meta l4proto tcp meta mark & 0x00000fff == 0x00000111 counter packets 0 bytes 0 accept
		oifname "lo" ip daddr != 127.0.0.1 counter packets 0 bytes 0 accept
		meta l4proto tcp ip daddr != 127.0.0.1 meta mark & 0x00000fff != 0x00000539 counter packets 0 bytes 0 redirect to :15001
	}
}
table inet istio-ambient-mangle {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		jump istio-prerouting
	}
	chain output {
		type route hook output priority mangle; policy accept;
		jump istio-output
	}
	chain istio-prerouting {
		meta mark & 0x00000fff == 0x00000539 counter packets 0 bytes 0 ct mark set ct mark & 0xfffff000 | 0x00000111
	}
	chain istio-output {
		ct mark & 0x00000fff == 0x00000111 counter packets 0 bytes 0 meta mark set ct mark
	}
}
`;

test('rule counts from the script match those of the listing it produces', () => {
  const script = inpodNftablesRules({ families: [4] });
  assert.deepEqual(nftScriptCounts(script), nftListCounts(listing));
  assert.deepEqual(nftDrift(script, listing, NFT_INPOD_TABLES), []);
});

test('drift names missing tables, short chains and leftovers', () => {
  const dns = inpodNftablesRules({ families: [4], dnsCapture: true });
  const drift = nftDrift(dns, listing, NFT_INPOD_TABLES);
  assert.ok(drift.includes('table inet istio-ambient-raw is missing'));
  assert.ok(drift.includes('inet istio-ambient-nat: chain istio-output has 4 rules, want 6'));
  const withRaw = listing + 'table inet istio-ambient-raw {\n}\n';
  assert.ok(
    nftDrift(inpodNftablesRules({ families: [4] }), withRaw, NFT_INPOD_TABLES).includes(
      'leftover table inet istio-ambient-raw',
    ),
  );
});

test('removal deletes only the tables that exist', () => {
  assert.equal(
    nftRemoval(listing, NFT_INPOD_TABLES),
    'delete table inet istio-ambient-nat\ndelete table inet istio-ambient-mangle\n',
  );
  assert.equal(nftRemoval('', NFT_INPOD_TABLES), '');
});
