import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dnsProblem,
  parseResolvConf,
  podResolvConf,
  renderResolvConf,
} from './resolv-conf.pure.js';

const s = {
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  nodeResolvConf: 'nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n',
};
const pod = (spec: object) => ({ metadata: { namespace: 'shop' }, spec });

test('ClusterFirst pods get the cluster DNS, the namespace search list and ndots:5', () => {
  assert.equal(
    renderResolvConf(podResolvConf(pod({}), s)),
    'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\n' +
      'nameserver 10.96.0.10\noptions ndots:5\n',
  );
});

test('hostNetwork pods use the node resolver unless ClusterFirstWithHostNet', () => {
  assert.deepEqual(podResolvConf(pod({ hostNetwork: true }), s).nameservers, ['192.0.2.53']);
  assert.deepEqual(
    podResolvConf(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), s).nameservers,
    ['10.96.0.10'],
  );
  assert.equal(
    renderResolvConf(podResolvConf(pod({ dnsPolicy: 'Default' }), s)),
    'search corp.example\nnameserver 192.0.2.53\noptions edns0\n',
  );
});

test('dnsPolicy None takes only dnsConfig; dnsConfig merges and overrides options', () => {
  const none = pod({
    dnsPolicy: 'None',
    dnsConfig: {
      nameservers: ['1.2.3.4'],
      searches: ['a.example'],
      options: [{ name: 'ndots', value: '2' }],
    },
  });
  assert.equal(
    renderResolvConf(podResolvConf(none, s)),
    'search a.example\nnameserver 1.2.3.4\noptions ndots:2\n',
  );
  const merged = podResolvConf(
    pod({
      dnsConfig: {
        nameservers: ['10.96.0.10', '9.9.9.9'],
        options: [{ name: 'ndots', value: '1' }, { name: 'rotate' }],
      },
    }),
    s,
  );
  assert.deepEqual(merged.nameservers, ['10.96.0.10', '9.9.9.9']);
  assert.deepEqual(merged.options, [{ name: 'ndots', value: '1' }, { name: 'rotate' }]);
  assert.equal(
    dnsProblem(pod({ dnsPolicy: 'None' })),
    'dnsPolicy None needs at least one dnsConfig.nameservers entry',
  );
  assert.equal(dnsProblem(none), undefined);
});

test('resolv.conf parsing keeps nameservers in order and ignores comments', () => {
  assert.deepEqual(
    parseResolvConf('# x\nnameserver 1.1.1.1 ; c\nnameserver 8.8.8.8\nsearch a b\n'),
    {
      nameservers: ['1.1.1.1', '8.8.8.8'],
      searches: ['a', 'b'],
      options: [],
    },
  );
});
