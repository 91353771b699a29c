#!/usr/bin/env node
// Entry point of `trellis`.
console.error('trellis: not implemented yet');
process.exitCode = 1;
