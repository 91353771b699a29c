// State-of-the-world ADS client: each request lists every subscribed name; each response is
// ACKed with its version_info or NACKed with the last accepted one. Only resources whose bytes
// changed are reported as updated.
import { create } from '@bufbuild/protobuf';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import {
  DiscoveryRequestSchema,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { emptyMeansWildcard, sotwResourceNames } from '../subscription.js';
import { resourceVersion } from '../versioning.js';
import { AdsClient } from './ads-client.js';
import { clipped, decodeAll } from './decode.js';
import type { TypeState } from './type-state.js';
import type { XdsClient, XdsClientOptions } from './types.js';

const INVALID_ARGUMENT = 3;

class SotwClient extends AdsClient<DiscoveryRequest, DiscoveryResponse> {
  readonly protocol = 'sotw';

  constructor(opts: XdsClientOptions) {
    super(opts);
    this.start();
  }

  protected open(): ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> {
    return this.grpc.streamAggregatedResources();
  }

  protected resumeRequest(t: TypeState<unknown>): DiscoveryRequest | undefined {
    if (!this.expressible(t)) return undefined;
    return create(DiscoveryRequestSchema, {
      typeUrl: t.typeUrl,
      versionInfo: t.version,
      resourceNames: sotwResourceNames(t.typeUrl, t.subscription),
    });
  }

  protected changeRequest(t: TypeState<unknown>): DiscoveryRequest | undefined {
    if (!this.expressible(t)) return undefined;
    return create(DiscoveryRequestSchema, {
      typeUrl: t.typeUrl,
      versionInfo: t.version,
      responseNonce: t.nonce,
      resourceNames: sotwResourceNames(t.typeUrl, t.subscription),
    });
  }

  // An empty subscription cannot be said in SotW for types where an empty list means "all"; the
  // client then stops asking and ignores what still arrives for the type.
  private expressible(t: TypeState<unknown>): boolean {
    const empty = !t.subscription.wildcard && t.subscription.names.size === 0;
    return !(empty && emptyMeansWildcard(t.typeUrl));
  }

  protected respond(res: DiscoveryResponse): DiscoveryRequest {
    const t = this.types.get(res.typeUrl);
    const reply = (version: string, errorMessage?: string) =>
      create(DiscoveryRequestSchema, {
        typeUrl: res.typeUrl,
        versionInfo: version,
        responseNonce: res.nonce,
        resourceNames: t ? sotwResourceNames(t.typeUrl, t.subscription) : [],
        ...(errorMessage !== undefined
          ? { errorDetail: { code: INVALID_ARGUMENT, message: errorMessage } }
          : {}),
      });
    if (!t) {
      return reply(
        '',
        this.rejected(t, res.typeUrl, res.nonce, `not subscribed to ${clipped(res.typeUrl)}`),
      );
    }
    t.nonce = res.nonce;
    if (!this.expressible(t)) return reply(res.versionInfo);
    const raw = res.resources.map((any) => ({
      name: undefined,
      version: resourceVersion(any),
      resource: any,
    }));
    const decoded = decodeAll(t.handler, res.typeUrl, raw);
    if (!decoded.ok)
      return reply(t.version, this.rejected(t, res.typeUrl, res.nonce, decoded.reason));
    const updated = decoded.value.filter((r) => t.held.get(r.name)?.version !== r.version);
    const listed = new Set(decoded.value.map((r) => r.name));
    const removed = t.sotwFullState ? [...t.held.keys()].filter((n) => !listed.has(n)) : [];
    const refused = t.apply(updated, removed, res.versionInfo);
    if (refused !== undefined)
      return reply(t.version, this.rejected(t, res.typeUrl, res.nonce, refused));
    return reply(res.versionInfo);
  }
}

/** A state-of-the-world ADS client; it starts connecting at once. */
export function createSotwClient(opts: XdsClientOptions): XdsClient {
  return new SotwClient(opts);
}
