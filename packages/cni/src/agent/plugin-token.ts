// The token in the plugin's kubeconfig. The agent's own projected token is bound to the agent pod
// and dies with it, which would leave the plugin unable to tell an enrolled pod from any other
// while the agent is away (an upgrade, a crash loop) — and then every pod would start unredirected.
// So the agent asks for a token of its service account bound to its Node (TokenRequest; Node
// binding is GA since Kubernetes 1.33), valid 24 h and renewed every hour; when it may not
// (RBAC: create serviceaccounts/token on its own account) the plugin gets the pod's token.
import type { Logger } from '@trellis/core';

export const NODE_TOKEN_SECONDS = 24 * 3600;
const RENEW_MS = 3600_000;

export interface TokenSource {
  ownToken(): string | undefined;
  nodeBoundToken(
    account: { namespace: string; name: string },
    node: string,
    expirationSeconds: number,
  ): Promise<string>;
}

/** The service account a Kubernetes service-account JWT names, or undefined. */
export function serviceAccountOf(
  jwt: string | undefined,
): { namespace: string; name: string } | undefined {
  const payload = jwt?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      sub?: string;
    };
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub ?? '');
    return m ? { namespace: m[1]!, name: m[2]! } : undefined;
  } catch {
    return undefined;
  }
}

export class PluginToken {
  #nodeBound: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #warned = false;

  constructor(
    private readonly api: TokenSource,
    private readonly node: string,
    private readonly logger: Logger,
  ) {}

  /** The node-bound token once there is one, else the agent's own (undefined: no token auth). */
  get token(): string | undefined {
    return this.#nodeBound ?? this.api.ownToken();
  }

  async start(): Promise<void> {
    await this.#renew();
    this.#timer = setInterval(() => void this.#renew(), RENEW_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    const account = serviceAccountOf(this.api.ownToken());
    if (!account) return;
    try {
      this.#nodeBound = await this.api.nodeBoundToken(account, this.node, NODE_TOKEN_SECONDS);
      this.#warned = false;
    } catch (err) {
      if (this.#warned) return;
      this.#warned = true;
      this.logger.warn(
        { err: (err as Error).message, account: `${account.namespace}/${account.name}` },
        'no node-bound token for the plugin (allow create on serviceaccounts/token for this account); the plugin uses the agent pod token, which stops working when the agent pod is deleted',
      );
    }
  }
}
