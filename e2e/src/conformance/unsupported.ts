// Tests of the suite that Trellis cannot pass, each with the reason: passed to the suite as
// -skip-tests (so they are reported as skipped, the upstream way of declaring a test unsupported)
// and listed with their reason in the runner's summary and in docs/conformance.md. A test goes
// here only when the behaviour it checks is out of Trellis's design, never to hide a bug.
export const UNSUPPORTED_TESTS: Readonly<Record<string, string>> = {};
