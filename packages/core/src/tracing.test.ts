import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { context, propagation, trace } from '@opentelemetry/api';
import { startTracing } from './tracing.js';

// A minimal protobuf reader: enough to walk an OTLP ExportTraceServiceRequest by field number
// (opentelemetry/proto/collector/trace/v1 and trace/v1, common/v1).
type Field = { no: number; bytes?: Buffer; varint?: bigint };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    switch (key & 7) {
      case 0:
        out.push({ no, varint: varint() });
        break;
      case 1:
        out.push({ no, bytes: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case 2: {
        const len = Number(varint());
        out.push({ no, bytes: buf.subarray(pos, pos + len) });
        pos += len;
        break;
      }
      case 5:
        out.push({ no, bytes: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        throw new Error(`unexpected wire type ${key & 7}`);
    }
  }
  return out;
}

const all = (buf: Buffer, no: number) =>
  fields(buf)
    .filter((f) => f.no === no)
    .map((f) => f.bytes!);
const one = (buf: Buffer, no: number) => all(buf, no)[0] ?? Buffer.alloc(0);
const str = (buf: Buffer, no: number) => one(buf, no).toString('utf8');

interface ExportedSpan {
  service: string;
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, string>;
}

function keyValues(buf: Buffer, no: number): Record<string, string> {
  // KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string_value = 1 }
  return Object.fromEntries(all(buf, no).map((kv) => [str(kv, 1), str(one(kv, 2), 1)]));
}

function decodeExport(request: Buffer): ExportedSpan[] {
  const spans: ExportedSpan[] = [];
  for (const resourceSpans of all(request, 1)) {
    const service = keyValues(one(resourceSpans, 1), 1)['service.name'];
    for (const scopeSpans of all(resourceSpans, 2)) {
      const scope = str(one(scopeSpans, 1), 1);
      for (const span of all(scopeSpans, 2)) {
        spans.push({
          service,
          scope,
          name: str(span, 5),
          traceId: one(span, 1).toString('hex'),
          spanId: one(span, 2).toString('hex'),
          parentSpanId: one(span, 4).toString('hex'),
          attributes: keyValues(span, 9),
        });
      }
    }
  }
  return spans;
}

/** A real gRPC server speaking opentelemetry.proto.collector.trace.v1.TraceService/Export. */
async function startCollector() {
  const raw = (b: Buffer) => b;
  const service: grpc.ServiceDefinition = {
    Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  };
  const spans: ExportedSpan[] = [];
  const server = new grpc.Server();
  server.addService(service, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      spans.push(...decodeExport(call.request));
      callback(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { spans, port, stop: () => server.forceShutdown() };
}

test('off by default: spans do not record and nothing is registered globally', async () => {
  for (const otlpEndpoint of [undefined, '']) {
    const tracing = startTracing({ serviceName: 'ztunnel', otlpEndpoint });
    assert.equal(tracing.enabled, false);
    const span = tracing.tracer('hbone').startSpan('connect');
    assert.equal(span.isRecording(), false);
    assert.equal(trace.isSpanContextValid(span.spanContext()), false);
    span.end();
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    assert.deepEqual(carrier, {});
    await tracing.shutdown();
  }
});

test('on: spans reach an OTLP collector over gRPC with service, scope and parent', async (t) => {
  const collector = await startCollector();
  t.after(() => collector.stop());
  const tracing = startTracing({
    serviceName: 'ztunnel',
    otlpEndpoint: `http://127.0.0.1:${collector.port}`,
  });
  assert.equal(tracing.enabled, true);

  const tracer = tracing.tracer('hbone');
  const parent = tracer.startSpan('inbound', {
    attributes: { 'destination.address': '10.0.0.2:8080' },
  });
  assert.equal(parent.isRecording(), true);
  const ctx = trace.setSpan(context.active(), parent);
  tracer.startSpan('connect upstream', {}, ctx).end();

  // Registered globally: the W3C propagator writes a traceparent header for the active span.
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  const { traceId, spanId } = parent.spanContext();
  assert.equal(headers.traceparent, `00-${traceId}-${spanId}-01`);
  parent.end();

  await tracing.shutdown(); // flushes the batch
  const byName = Object.fromEntries(collector.spans.map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['connect upstream', 'inbound']);
  assert.deepEqual(byName.inbound, {
    service: 'ztunnel',
    scope: 'hbone',
    name: 'inbound',
    traceId,
    spanId,
    parentSpanId: '',
    attributes: { 'destination.address': '10.0.0.2:8080' },
  });
  assert.equal(byName['connect upstream'].traceId, traceId);
  assert.equal(byName['connect upstream'].parentSpanId, spanId);

  // After shutdown the global registration is gone.
  assert.equal(trace.getTracer('later').startSpan('x').isRecording(), false);
});
