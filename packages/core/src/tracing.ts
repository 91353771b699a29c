// Tracing with OpenTelemetry, exported over OTLP/gRPC. Off unless an endpoint is configured: then
// every tracer is a no-op and spans cost next to nothing.
import { context, propagation, ProxyTracerProvider, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** Written as the `service.name` resource attribute. */
  readonly serviceName: string;
  /**
   * OTLP/gRPC collector, e.g. "http://otel-collector.observability:4317" ("http://" means
   * plaintext, "https://" TLS). Unset or empty: tracing is off.
   */
  readonly otlpEndpoint?: string;
}

export interface Tracing {
  readonly enabled: boolean;
  /** A tracer for one module; a no-op tracer when tracing is off. */
  tracer(name: string): Tracer;
  /** Exports the spans still buffered, then stops. When on, also undoes the global registration. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing. When an endpoint is given, the provider is also registered globally (tracer
 * provider, AsyncLocalStorage context manager, W3C traceparent/baggage propagators), so
 * `context.active()` and `propagation.inject/extract` work across awaits.
 */
export function startTracing(opts: TracingOptions): Tracing {
  if (!opts.otlpEndpoint) {
    const noop = new ProxyTracerProvider();
    return { enabled: false, tracer: (name) => noop.getTracer(name), shutdown: async () => {} };
  }

  const exporter = new OTLPTraceExporter({ url: opts.otlpEndpoint });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  let stopped: Promise<void> | undefined;

  return {
    enabled: true,
    tracer: (name) => provider.getTracer(name),
    shutdown() {
      stopped ??= provider.shutdown().finally(() => {
        trace.disable();
        context.disable();
        propagation.disable();
      });
      return stopped;
    },
  };
}
