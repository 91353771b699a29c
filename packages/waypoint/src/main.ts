#!/usr/bin/env node
// Entry point of `trellis-waypoint`.
console.error('trellis-waypoint: not implemented yet');
process.exitCode = 1;
