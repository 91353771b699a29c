// Public surface of @trellis/cni: the enrollment rules, the plugin's event contract and the agent's
// pieces other packages (the CLI's uninstall, tests) use.
export * from './enrollment.pure.js';
export * from './plugin-events.pure.js';
export {
  insertPlugin,
  removePlugin,
  pluginEntry,
  primaryConfFile,
  chainedLast,
} from './install/conflist.pure.js';
export { PLUGIN_TYPE, SUPPORTED_VERSIONS, CniCode } from './plugin/cni-protocol.pure.js';
