// TCP requests: a new connection each, the message (default HelloWorld) sent with a newline, the
// answer read until it contains the message or the server closes; it must contain the expected
// text (StatusCode=200 unless --expect says otherwise). TLS only with a client certificate.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tcpExchangeOutput } from '../fields.pure.js';
import { ForwardError, type ForwardPlan } from '../forward-request.pure.js';
import { runRequests, type ActiveCounter } from './run.js';
import { tlsOptions } from './tls-material.js';

export async function forwardTcp(plan: ForwardPlan, counter: ActiveCounter): Promise<string[]> {
  const tls = plan.secure ? tlsOptions(plan.tls) : undefined;
  return runRequests(
    plan,
    async (id, signal) => {
      const message = plan.message || 'HelloWorld';
      const { sourceIp, received } = await exchange(plan, tls, `${message}\n`, message, signal);
      const out = tcpExchangeOutput(id, {
        sourceIp,
        url: plan.url,
        message: plan.message,
        received,
      });
      if (!out.includes(plan.expected))
        throw new ForwardError(
          `expect to recv message with ${plan.expected}, got ${out}. Return EOF`,
        );
      return out;
    },
    counter,
  );
}

function exchange(
  plan: ForwardPlan,
  tls: ReturnType<typeof tlsOptions> | undefined,
  payload: string,
  until: string,
  signal: AbortSignal,
): Promise<{ sourceIp: string; received: string }> {
  return new Promise((resolve, reject) => {
    const where = { host: plan.host, port: plan.port, family: plan.family || undefined };
    const socket: Socket = tls ? tlsConnect({ ...where, ...tls }) : netConnect(where);
    let received = '';
    let sourceIp = '';
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', abort);
      socket.destroy();
      if (err) reject(new ForwardError(`tcp ${plan.authority}: ${err.message}`));
      else resolve({ sourceIp, received });
    };
    const abort = () => finish(new Error('timed out'));
    signal.addEventListener('abort', abort, { once: true });
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      sourceIp = socket.localAddress ?? '';
      socket.write(payload);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes(until)) finish();
    });
    socket.on('end', () => finish());
    socket.on('error', (e) => finish(e));
  });
}
