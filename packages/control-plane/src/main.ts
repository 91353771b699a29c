#!/usr/bin/env node
// Entry point of `trellis-control-plane`.
console.error('trellis-control-plane: not implemented yet');
process.exitCode = 1;
