// @trellis/core/test-support: helpers every package's tests share (never imported by runtime code).
export {
  eventually,
  EVENTUALLY_TIMEOUT_MS,
  type EventuallyOptions,
  type NotYet,
} from './eventually.js';
export { fileTimeout } from './file-timeout.js';
export { isRoot, rootOnly } from './root-only.js';
export { Spawned, START_TIMEOUT_MS, type LogLine } from './spawned.js';
