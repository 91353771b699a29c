// Delta ADS client: subscribes with resource_names_subscribe/_unsubscribe, applies updated and
// removed resources, and on a new stream tells the server what it holds
// (initial_resource_versions) so unchanged resources are not sent again.
import { create } from '@bufbuild/protobuf';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import {
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { subscriptionNames } from '../subscription.js';
import { AdsClient } from './ads-client.js';
import { clipped, decodeAll } from './decode.js';
import type { TypeState } from './type-state.js';
import type { XdsClient, XdsClientOptions } from './types.js';

const INVALID_ARGUMENT = 3;

class DeltaClient extends AdsClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  readonly protocol = 'delta';

  constructor(opts: XdsClientOptions) {
    super(opts);
    this.start();
  }

  protected open(): ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
    return this.grpc.deltaAggregatedResources();
  }

  protected resumeRequest(t: TypeState<unknown>): DeltaDiscoveryRequest | undefined {
    const names = subscriptionNames(t.subscription);
    if (names.length === 0) return undefined;
    return create(DeltaDiscoveryRequestSchema, {
      typeUrl: t.typeUrl,
      resourceNamesSubscribe: names,
      initialResourceVersions: t.versions(),
    });
  }

  protected changeRequest(
    t: TypeState<unknown>,
    _before: unknown,
    subscribe: readonly string[],
    unsubscribe: readonly string[],
  ): DeltaDiscoveryRequest {
    return create(DeltaDiscoveryRequestSchema, {
      typeUrl: t.typeUrl,
      resourceNamesSubscribe: [...subscribe],
      resourceNamesUnsubscribe: [...unsubscribe],
    });
  }

  protected respond(res: DeltaDiscoveryResponse): DeltaDiscoveryRequest {
    const t = this.types.get(res.typeUrl);
    const reply = (errorMessage?: string) =>
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: res.typeUrl,
        responseNonce: res.nonce,
        ...(errorMessage !== undefined
          ? { errorDetail: { code: INVALID_ARGUMENT, message: errorMessage } }
          : {}),
      });
    if (!t)
      return reply(
        this.rejected(t, res.typeUrl, res.nonce, `not subscribed to ${clipped(res.typeUrl)}`),
      );
    t.nonce = res.nonce;
    const decoded = decodeAll(t.handler, res.typeUrl, res.resources);
    if (!decoded.ok) return reply(this.rejected(t, res.typeUrl, res.nonce, decoded.reason));
    const refused = t.apply(decoded.value, res.removedResources, res.systemVersionInfo);
    if (refused !== undefined) return reply(this.rejected(t, res.typeUrl, res.nonce, refused));
    return reply();
  }
}

/** A delta ADS client; it starts connecting at once. */
export function createDeltaClient(opts: XdsClientOptions): XdsClient {
  return new DeltaClient(opts);
}
