// A raw ADS stream for wire-level assertions: send requests, await responses one by one.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { grpcClientConstructor } from '@trellis/api';
import { AggregatedDiscoveryService } from '@trellis/api/gen/envoy/service/discovery/v3/ads_pb.js';
import { insecure } from './loopback.js';

export class RawStream<Req, Res> {
  readonly received: Res[] = [];
  private waiting: ((r: Res) => void)[] = [];
  private taken = 0;
  status: Promise<{ code: number; details: string }>;

  constructor(
    readonly stream: ClientDuplexStream<Req, Res>,
    private readonly close: () => void,
  ) {
    stream.on('data', (r: Res) => {
      this.received.push(r);
      this.waiting.shift()?.(r);
    });
    stream.on('error', () => {});
    this.status = new Promise((resolve) => stream.on('status', resolve));
  }

  send(req: Req): void {
    this.stream.write(req);
  }

  /** The next response not yet taken. */
  next(): Promise<Res> {
    const i = this.taken++;
    if (i < this.received.length) return Promise.resolve(this.received[i]!);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  end(): void {
    this.stream.cancel();
    this.close();
  }
}

function client(address: string) {
  return new (grpcClientConstructor(AggregatedDiscoveryService))(address, insecure);
}

export function rawDelta(address: string) {
  const c = client(address);
  return new RawStream(c.deltaAggregatedResources(), () => c.close());
}

export function rawSotw(address: string) {
  const c = client(address);
  return new RawStream(c.streamAggregatedResources(), () => c.close());
}
