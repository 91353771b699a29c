#!/usr/bin/env node
// Entry point of `trellis-cni-agent`.
console.error('trellis-cni-agent: not implemented yet');
process.exitCode = 1;
