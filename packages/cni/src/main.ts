#!/usr/bin/env node
// Entry point of `trellis-cni`.
console.error('trellis-cni: not implemented yet');
process.exitCode = 1;
