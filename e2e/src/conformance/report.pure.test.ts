import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failedCount, parseReport, reportPath, summaryLines } from './report.pure.js';

// The shape the suite (v1.6.1) writes: sigs.k8s.io/yaml of confv1.ConformanceReport.
const REPORT = `apiVersion: gateway.networking.k8s.io/v1
date: "2026-12-06T18:00:00Z"
gatewayAPIChannel: experimental
gatewayAPIVersion: v1.6.1
implementation:
  contact:
  - https://github.com/trellis-mesh/trellis/issues
  organization: trellis-mesh
  project: trellis
  url: https://github.com/trellis-mesh/trellis
  version: 0.1.0
kind: ConformanceReport
mode: default
profiles:
- core:
    result: failure
    statistics:
      Failed: 1
      Passed: 10
      Skipped: 0
    failedTests:
    - MeshTrafficSplit
  extended:
    result: partial
    skippedTests:
    - MeshConsumerRoute
    statistics:
      Failed: 0
      Passed: 7
      Skipped: 1
    supportedFeatures:
    - MeshHTTPRouteRewritePath
    unsupportedFeatures:
    - MeshClusterIPMatching
  name: MESH-HTTP
  summary: Core tests failed with 1 test failures. Extended tests partially succeeded with 1 test skips.
- core:
    result: success
    statistics:
      Failed: 0
      Passed: 2
      Skipped: 0
  name: MESH-GRPC
  summary: Core tests succeeded.
succeededProvisionalTests:
- MeshHTTPRoute303Redirect
`;

test('reads the suite report: versions, per-level counts and test names', () => {
  const r = parseReport(REPORT);
  assert.deepEqual(
    [r.gatewayAPIVersion, r.gatewayAPIChannel, r.implementationVersion],
    ['v1.6.1', 'experimental', '0.1.0'],
  );
  const mesh = r.profiles.find((p) => p.name === 'MESH-HTTP')!;
  assert.deepEqual(
    [mesh.core.passed, mesh.core.failed, mesh.core.skipped, mesh.core.failedTests],
    [10, 1, 0, ['MeshTrafficSplit']],
  );
  assert.deepEqual(mesh.extended!.unsupportedFeatures, ['MeshClusterIPMatching']);
  assert.equal(r.profiles.find((p) => p.name === 'MESH-GRPC')!.extended, undefined);
  assert.deepEqual(r.succeededProvisionalTests, ['MeshHTTPRoute303Redirect']);
  assert.equal(failedCount(r), 1);
});

test('the summary: profiles in order, failures, skips with their reason, unsupported features', () => {
  const lines = summaryLines(parseReport(REPORT), { MeshConsumerRoute: 'why not' });
  assert.deepEqual(lines, [
    '  MESH-GRPC',
    '    core      2 passed, 0 failed, 0 skipped (success)',
    '  MESH-HTTP',
    '    core      10 passed, 1 failed, 0 skipped (failure)',
    '      FAILED: MeshTrafficSplit',
    '    extended  7 passed, 0 failed, 1 skipped (partial)',
    '      skipped: MeshConsumerRoute (why not)',
    '      unsupported features: MeshClusterIPMatching',
  ]);
});

test('what is not a report is refused with the field at fault', () => {
  assert.throws(() => parseReport('kind: Pod\n'), /not a ConformanceReport \(kind "Pod"\)/);
  assert.throws(() => parseReport('kind: ConformanceReport\n'), /profiles: not a list/);
  assert.throws(
    () => parseReport('kind: ConformanceReport\nprofiles:\n- core: {}\n'),
    /profiles\[0\]\.name: missing/,
  );
  assert.throws(
    () =>
      parseReport(
        'kind: ConformanceReport\nprofiles:\n- name: X\n  core: {statistics: {Passed: -1}}\n',
      ),
    /profiles\[0\]\.core\.statistics\.Passed: not a count/,
  );
});

test('report path: conformance/reports/<gateway-api>-trellis-<version>.yaml', () => {
  assert.equal(reportPath('v1.6.1', '0.1.0'), 'conformance/reports/v1.6.1-trellis-0.1.0.yaml');
  assert.throws(() => reportPath('../x', '0.1.0'), /"..\/x" is not a version/);
});
