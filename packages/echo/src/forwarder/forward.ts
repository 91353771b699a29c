// Forwards a ForwardEchoRequest: plans it (forward-request.pure.ts), then sends it with the
// protocol of its scheme. Used by the `client` command and by the gRPC ForwardEcho call.
import { planForward, type ForwardRequest } from '../forward-request.pure.js';
import { forwardHttp } from './http.js';
import type { ActiveCounter } from './run.js';
import { forwardTcp } from './tcp.js';

const counter: ActiveCounter = { active: 0 };

/** The output of each request, in order; throws ForwardError for a bad request or failed set. */
export async function forwardEcho(request: ForwardRequest): Promise<string[]> {
  const plan = planForward(request);
  switch (plan.scheme) {
    case 'http':
    case 'https':
      return forwardHttp(plan, counter);
    case 'grpc': {
      // grpc-js and the protos load only when needed: most client runs are HTTP.
      const { forwardGrpc } = await import('./grpc.js');
      return forwardGrpc(plan, counter);
    }
    case 'tcp':
      return forwardTcp(plan, counter);
  }
}
