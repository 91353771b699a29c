// Enrolled -> enrolled traffic is mutual TLS: the node link carries TLS (HBONE on 15008) and
// never the payload, and the server side's ztunnel logs the client's SPIFFE identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { suite } from '../harness/suite.js';
import { captureOnNodeLink, curlFrom, podOf } from '../harness/traffic.js';
import { accessLog } from '../harness/ztunnel-log.js';

const s = suite();
const needs = s.needs('exec', 'cni', 'ztunnel');
const CLIENT_ID = 'spiffe://cluster.local/ns/e2e-mesh/sa/client';

test(
  'enrolled pods are redirected (annotation ambient.istio.io/redirection=enabled)',
  needs,
  () => {
    for (const app of ['client', 'echo']) {
      const pods = s.kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', `app=${app}`).items;
      for (const p of pods)
        assert.equal(
          p.metadata.annotations?.['ambient.istio.io/redirection'],
          'enabled',
          p.metadata.name,
        );
    }
    const plain = s.kubectl.getJson('pods', '-n', 'e2e-plain', '-l', 'app=client').items[0];
    assert.equal(plain.metadata.annotations?.['ambient.istio.io/redirection'], undefined);
  },
);

test(
  'client (node 1) -> echo-v2 (node 2): the node link carries TLS and never the payload',
  { ...needs, skip: needs.skip ?? (!s.cluster && 'captures need a cluster the runner created') },
  async () => {
    const marker = `trellis-e2e-${randomBytes(8).toString('hex')}`;
    const client = { namespace: 'e2e-mesh', pod: podOf(s.kubectl, 'e2e-mesh', 'client') };
    let answer = '';
    const capture = await captureOnNodeLink(s.ref, 1, () => {
      const r = curlFrom(s.kubectl, client, `http://echo-v2.e2e-mesh.svc.cluster.local/${marker}`, [
        '-H',
        `x-marker: ${marker}`,
      ]);
      assert.equal(r.httpCode, 200, r.body);
      answer = r.body;
    });
    assert.ok(answer.includes(marker), 'the echo answered with the marker (it reached the app)');
    assert.ok(
      capture.tlsRecords > 0,
      `TLS records on the link (${capture.packets} packets captured)`,
    );
    assert.equal(
      capture.raw.includes(Buffer.from(marker)),
      false,
      'the payload marker never crossed the link in plaintext',
    );
  },
);

test("the server-side ztunnel logs the client's SPIFFE identity", needs, () => {
  const client = { namespace: 'e2e-mesh', pod: podOf(s.kubectl, 'e2e-mesh', 'client') };
  assert.equal(
    curlFrom(s.kubectl, client, 'http://echo-v2.e2e-mesh.svc.cluster.local/identity').httpCode,
    200,
  );
  const echo = s.kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', 'app=echo,version=v2').items[0];
  const records = accessLog(s.kubectl, echo.spec.nodeName);
  const seen = records.filter(
    (r) => r.direction === 'inbound' && r.dstWorkload?.includes(echo.metadata.name),
  );
  assert.ok(
    seen.some(
      (r) => r.srcIdentity === CLIENT_ID && r.protocol === 'hbone' && r.decision === 'allow',
    ),
    `the ztunnel on ${echo.spec.nodeName} logged no HBONE connection from ${CLIENT_ID} to ${echo.metadata.name}: ${JSON.stringify(seen.slice(-3))}`,
  );
});
