// Public surface of @trellis/core: the runtime every Trellis program shares.

// Typed settings from flags and environment variables.
export {
  ConfigError,
  defineSettings,
  loadSettings,
  settingNames,
  wantsHelp,
  type Setting,
  type SettingValue,
  type Settings,
  type SettingsSource,
  type SettingsSpec,
} from './settings.js';
export {
  bool,
  custom,
  ipAddress,
  duration,
  formatDuration,
  hostPort,
  int,
  list,
  oneOf,
  string,
  type HostPort,
  type Parser,
} from './setting-parsers.js';
export { helpText } from './settings-help.js';

// Logging.
export {
  checkLogLevel,
  createLogger,
  LOG_LEVELS,
  type LevelsSnapshot,
  type Log,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logger.js';

// Metrics and tracing.
export { createMetrics, METRICS_PATHS, type Metrics, type MetricsOptions } from './metrics.js';
export { createCounterSet, type CounterDef, type LabelledCounter } from './counter-set.js';
export { createIstioTcpCounters, type IstioTcpCounters } from './istio-tcp-metrics.js';
export { createMetricsRegistry, type MetricsRegistry } from './metrics-registry.js';
export { checkMetricName, checkedMeter, type InstrumentKind } from './metric-names.js';
export { startTracing, type Tracing, type TracingOptions } from './tracing.js';

// Shutdown and drain.
export {
  createLifecycle,
  FORCE_GRACE_MS,
  type Lifecycle,
  type LifecycleOptions,
  type ShutdownContext,
} from './lifecycle.js';
export { listenGrpc, type GrpcListener, type InjectableGrpcServer } from './grpc-listener.js';
export { drainable, type Drainable, type DrainableServer, type GrpcServerLike } from './drain.js';

// Results of checks at the edge, and IP addresses.
export { ok, refused, type Result } from './result.js';
export { clip } from './clip.js';
export {
  canonicalIp,
  cidrContains,
  ipFamily,
  ipFromBytes,
  ipToBytes,
  isIP,
  isIPv4,
  isIPv6,
  isLoopbackIp,
  maxPrefix,
  networkAddress,
  parseCidr,
  type Cidr,
} from './ip.js';

// Backoff and retry.
export { backoff, type Backoff, type BackoffOptions, type Jitter } from './backoff.js';
export { retry, type RetryOptions } from './retry.js';
