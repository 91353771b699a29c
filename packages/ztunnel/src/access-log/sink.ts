// Where access-log lines go: by default one JSON line per connection through the "access" log scope.
import type { Logger } from '@trellis/core';
import type { AccessLogSink } from './connection-record.js';

export function loggerSink(logger: Logger): AccessLogSink {
  return (entry) => logger.info(entry, 'connection complete');
}
