// Request mirroring: a copy of the request (Host suffixed "-shadow", as Envoy does) goes to the
// mirror cluster once the request body is complete; the copy's response is read and dropped.
// Mirrors never delay or fail the real request; a copy that cannot be delivered (no such cluster,
// no endpoint, the upstream failed) is counted and logged by svc.mirrorDrops.
import type { HeaderList } from '../http/headers.pure.js';
import type { MirrorPolicy } from '../model/route.js';
import type { UpstreamError, UpstreamListener } from '../upstream/stream.js';
import type { EngineServices } from './context.js';
import { mirrorFailureFlag } from './mirror-drops.js';
import type { PreparedRequest } from './request-prep.js';
import { staleConnection } from './retry-decision.js';

export function shadowHost(authority: string): string {
  const c = authority.lastIndexOf(':');
  if (c > 0 && authority.indexOf(']') < c && /^\d+$/.test(authority.slice(c + 1)))
    return `${authority.slice(0, c)}-shadow${authority.slice(c)}`;
  return `${authority}-shadow`;
}

export function startMirrors(
  policies: readonly MirrorPolicy[],
  req: PreparedRequest,
  body: readonly Buffer[],
  trailers: HeaderList | undefined,
  svc: EngineServices,
): void {
  for (const p of policies) {
    if (p.fraction < 1 && svc.random() >= p.fraction) continue;
    sendCopy(p, req, body, trailers, svc, false);
  }
}

/**
 * Sends one copy. A kept-alive connection the upstream had closed (reset before any response on a
 * reused connection) gets one more try on a fresh one, as the real request does.
 */
function sendCopy(
  p: MirrorPolicy,
  req: PreparedRequest,
  body: readonly Buffer[],
  trailers: HeaderList | undefined,
  svc: EngineServices,
  retried: boolean,
): void {
  const cluster = svc.cluster(p.cluster);
  if (!cluster) {
    svc.mirrorDrops.dropped(p.cluster, 'NC');
    return;
  }
  const host = cluster.pick({ random: svc.random });
  if (!host) {
    svc.mirrorDrops.dropped(p.cluster, 'UH');
    return;
  }
  const protocol = cluster.config.protocol === 'http2' ? 'http2' : 'http1';
  cluster.acquire(host, protocol, (err, stream) => {
    if (err || !stream) {
      svc.mirrorDrops.dropped(p.cluster, err ? mirrorFailureFlag(err.failure) : 'UF', err?.message);
      return;
    }
    const reused = stream.reused;
    const listener: UpstreamListener = {
      onInformational() {},
      onHead() {},
      onData() {},
      onTrailers() {},
      onError(e: UpstreamError) {
        if (staleConnection(e.failure, reused) && !retried)
          sendCopy(p, req, body, trailers, svc, true);
        else svc.mirrorDrops.dropped(p.cluster, mirrorFailureFlag(e.failure), e.message);
      },
      onDrain() {},
    };
    const endStream = body.length === 0 && !trailers;
    stream.start(
      {
        ...req,
        headers: req.headers.slice(),
        authority: p.shadowSuffix ? shadowHost(req.authority) : req.authority,
        endStream,
      },
      listener,
    );
    for (let i = 0; i < body.length; i++)
      stream.sendData(body[i]!, i === body.length - 1 && !trailers);
    if (trailers) stream.sendTrailers(trailers);
  });
}
