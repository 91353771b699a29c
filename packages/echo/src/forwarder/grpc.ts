// gRPC requests: EchoTestService/Echo with the message and the headers as metadata, on one
// channel for the whole set (or one per request when asked); the authority is the Host header
// when one is given. TLS only with a client certificate, as upstream.
import {
  credentials,
  Metadata,
  type Client,
  type ChannelCredentials,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { EchoTestService } from '../echo-proto.js';
import { grpcExchangeOutput } from '../fields.pure.js';
import { ForwardError, type ForwardPlan } from '../forward-request.pure.js';
import { latencySince, runRequests, type ActiveCounter } from './run.js';
import { tlsOptions } from './tls-material.js';

type EchoClient = Client & {
  echo(
    req: { message: string },
    md: Metadata,
    opts: { deadline: number },
    cb: (err: ServiceError | null, res?: { message: string }) => void,
  ): ClientUnaryCall;
};

export async function forwardGrpc(plan: ForwardPlan, counter: ActiveCounter): Promise<string[]> {
  const creds = channelCredentials(plan);
  const target = `${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${plan.port}`;
  const options: Record<string, string> = {};
  if (plan.hostHeader) options['grpc.default_authority'] = plan.hostHeader;
  if (plan.secure && plan.tls.serverName)
    options['grpc.ssl_target_name_override'] = plan.tls.serverName;
  const newClient = () => new EchoTestService(target, creds, options) as unknown as EchoClient;
  const shared = plan.newConnectionPerRequest ? undefined : newClient();
  try {
    return await runRequests(
      plan,
      async (id, signal) => {
        const client = shared ?? newClient();
        try {
          const start = process.hrtime.bigint();
          const { message, headers } = await echo(client, plan, signal);
          return grpcExchangeOutput(id, {
            latency: latencySince(start),
            activeRequests: counter.active,
            message,
            responseHeaders: headers,
          });
        } finally {
          if (!shared) client.close();
        }
      },
      counter,
    );
  } finally {
    shared?.close();
  }
}

function echo(
  client: EchoClient,
  plan: ForwardPlan,
  signal: AbortSignal,
): Promise<{ message: string; headers: Array<[string, string]> }> {
  const md = new Metadata();
  for (const [k, v] of plan.headers) md.add(k.toLowerCase(), v);
  let headers: Array<[string, string]> = [];
  return new Promise((resolve, reject) => {
    const call = client.echo(
      { message: plan.message },
      md,
      { deadline: Date.now() + plan.timeoutMs },
      (err, res) => {
        signal.removeEventListener('abort', cancel);
        if (err) reject(new ForwardError(`gRPC Echo to ${plan.authority}: ${err.message}`));
        else resolve({ message: res?.message ?? '', headers });
      },
    );
    const cancel = () => call.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    call.on('metadata', (m: Metadata) => {
      headers = Object.entries(m.toJSON()).flatMap(([k, vs]) =>
        vs.filter((v): v is string => typeof v === 'string').map((v) => [k, v] as [string, string]),
      );
    });
  });
}

function channelCredentials(plan: ForwardPlan): ChannelCredentials {
  if (!plan.secure) return credentials.createInsecure();
  const o = tlsOptions(plan.tls);
  if (!o.cert || !o.key) throw new ForwardError('gRPC over TLS needs a client certificate and key');
  return credentials.createSsl(
    o.ca ? Buffer.from(String(o.ca)) : null,
    Buffer.from(String(o.key)),
    Buffer.from(String(o.cert)),
    { rejectUnauthorized: o.rejectUnauthorized },
  );
}
