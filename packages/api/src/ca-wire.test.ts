// Field numbers of istio.v1.auth messages, checked against hand-encoded bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
} from './gen/istio/v1/auth/ca_pb.js';
import { bytes, lenField, str, vint } from './test-support/wire.js';

const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';

test('IstioCertificateRequest: csr=1, validity_duration=3, metadata=4 (google.protobuf.Struct)', () => {
  // Struct.fields (1) is a map<string, Value>; Value.string_value is field 3.
  const entry = [
    ...str(1, 'ImpersonatedIdentity'),
    ...lenField(2, str(3, 'spiffe://cluster.local/ns/prod/sa/api')),
  ];
  const wire = bytes(str(1, CSR), vint(3, 86400), lenField(4, lenField(1, entry)));
  const req = fromBinary(IstioCertificateRequestSchema, wire);
  assert.equal(req.csr, CSR);
  assert.equal(req.validityDuration, 86400n);
  assert.deepEqual(req.metadata, { ImpersonatedIdentity: 'spiffe://cluster.local/ns/prod/sa/api' });
});

test('IstioCertificateRequest encodes csr with tag 1 and validity_duration with tag 3', () => {
  const req = create(IstioCertificateRequestSchema, { csr: 'x', validityDuration: 3600n });
  assert.deepEqual(
    [...toBinary(IstioCertificateRequestSchema, req)],
    [...str(1, 'x'), ...vint(3, 3600)],
  );
});

test('IstioCertificateResponse: cert_chain=1 keeps order (leaf first, root last)', () => {
  const res = fromBinary(
    IstioCertificateResponseSchema,
    bytes(str(1, 'leaf'), str(1, 'intermediate'), str(1, 'root')),
  );
  assert.deepEqual(res.certChain, ['leaf', 'intermediate', 'root']);
});
