#!/usr/bin/env node
// Entry point of `trellis-ztunnel`.
console.error('trellis-ztunnel: not implemented yet');
process.exitCode = 1;
