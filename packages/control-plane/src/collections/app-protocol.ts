// The application protocol of a Service port, the way Istio infers it: `appProtocol` first, else the
// port name prefix (`http-web` -> http). ztunnel only distinguishes HTTP/1.1, HTTP/2 and gRPC.
import type { AppProtocolName } from '../model/service-info.js';

export function appProtocolOf(port: {
  name?: string;
  protocol?: string;
  appProtocol?: string;
}): AppProtocolName {
  const transport = (port.protocol ?? 'TCP').toUpperCase();
  if (transport !== 'TCP') return 'UNKNOWN';
  if (port.appProtocol) {
    switch (port.appProtocol) {
      case 'kubernetes.io/h2c':
        return 'HTTP2';
      case 'kubernetes.io/ws':
        return 'HTTP11';
    }
    return fromName(port.appProtocol);
  }
  return fromName(port.name ?? '');
}

function fromName(name: string): AppProtocolName {
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return 'UNKNOWN';
  const prefix = lower.split('-', 1)[0];
  switch (prefix) {
    case 'http':
      return 'HTTP11';
    case 'http2':
      return 'HTTP2';
    case 'grpc':
      return 'GRPC';
    default:
      return 'UNKNOWN';
  }
}
