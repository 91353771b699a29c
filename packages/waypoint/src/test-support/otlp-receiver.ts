// A real OTLP/gRPC trace receiver for tests (TraceService/Export on grpc-js), decoding the spans it
// gets with a minimal protobuf walk (opentelemetry/proto collector/trace/v1 field numbers).
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';

export interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly kind: number;
  readonly attributes: Record<string, string>;
}

type Field = { no: number; bytes?: Buffer; varint?: bigint };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      r |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return r;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wt = key & 7;
    const size = wt === 1 ? 8 : wt === 5 ? 4 : wt === 2 ? Number(varint()) : -1;
    if (wt === 0) out.push({ no, varint: varint() });
    else if (size >= 0) {
      out.push({ no, bytes: buf.subarray(pos, pos + size) });
      pos += size;
    } else throw new Error(`wire type ${wt}`);
  }
  return out;
}
const all = (b: Buffer, no: number) => fields(b).filter((f) => f.no === no);
const one = (b: Buffer, no: number) => all(b, no)[0]?.bytes ?? Buffer.alloc(0);
const str = (b: Buffer, no: number) => one(b, no).toString('utf8');
const attrs = (b: Buffer, no: number) =>
  Object.fromEntries(all(b, no).map((kv) => [str(kv.bytes!, 1), str(one(kv.bytes!, 2), 1)]));

export function decodeTraceExport(req: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(req, 1)) {
    const service = attrs(one(rs.bytes!, 1), 1)['service.name'] ?? '';
    for (const ss of all(rs.bytes!, 2)) {
      for (const sp of all(ss.bytes!, 2)) {
        const b = sp.bytes!;
        spans.push({
          service,
          traceId: one(b, 1).toString('hex'),
          spanId: one(b, 2).toString('hex'),
          parentSpanId: one(b, 4).toString('hex'),
          name: str(b, 5),
          kind: Number(all(b, 6)[0]?.varint ?? 0n),
          attributes: attrs(b, 9),
        });
      }
    }
  }
  return spans;
}

/** Listens on `host` (default loopback) at a free port. */
export async function startOtlpReceiver(host = '127.0.0.1'): Promise<{
  endpoint: string;
  spans: ReceivedSpan[];
  close(): void;
}> {
  const spans: ReceivedSpan[] = [];
  const raw = (b: Buffer) => b;
  const service: ServiceDefinition = {
    export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  };
  const server = new Server();
  server.addService(service, {
    export: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => {
      spans.push(...decodeTraceExport(call.request));
      cb(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { endpoint: `http://${host}:${port}`, spans, close: () => server.forceShutdown() };
}
