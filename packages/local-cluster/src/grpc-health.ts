// The kubelet's gRPC probe: grpc.health.v1.Health/Check over plaintext HTTP/2 to podIP:port,
// healthy when the answer is SERVING (status 1) with grpc-status 0. The request and response are
// one-field protobuf messages, framed here by hand: HealthCheckRequest{service = 1 (string)},
// HealthCheckResponse{status = 1 (enum)}.
import { connect } from 'node:http2';

export function healthCheckRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  if (s.length > 127)
    throw new Error('gRPC probe service names longer than 127 bytes are not supported');
  const msg = s.length ? Buffer.concat([Buffer.from([0x0a, s.length]), s]) : Buffer.alloc(0);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** The status of a framed HealthCheckResponse (0 when the field is absent), or undefined if malformed. */
export function healthCheckStatus(framed: Buffer): number | undefined {
  if (framed.length < 5 || framed[0] !== 0) return undefined;
  const msg = framed.subarray(5, 5 + framed.readUInt32BE(1));
  for (let i = 0; i < msg.length;) {
    const tag = msg[i++]!;
    if (tag === 0x08) return msg[i];
    if ((tag & 7) === 0) while (msg[i++]! & 0x80);
    else if ((tag & 7) === 2) i += 1 + msg[i]!;
    else return undefined;
  }
  return 0;
}

export function grpcHealthCheck(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const session = connect(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    session.on('error', () => done(false));
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('trailers', (h) => (grpcStatus = String(h['grpc-status'])));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(grpcStatus === '0' && healthCheckStatus(Buffer.concat(chunks)) === 1));
    req.on('error', () => done(false));
    req.end(healthCheckRequest(service));
  });
}
