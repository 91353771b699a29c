#!/usr/bin/env node
// Entry point of `trellis-ca`.
console.error('trellis-ca: not implemented yet');
process.exitCode = 1;
