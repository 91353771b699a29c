// Cluster authentication: the bearer token is checked with the Kubernetes TokenReview API.
// The caller is the service account the token was issued to; its node comes from the bound
// token's pod claims (or from the pod itself when the claims lack the node name).
import {
  AuthenticationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1TokenReview,
} from '@kubernetes/client-node';
import { AuthenticationError, type Authenticator, type Caller } from '../caller.js';

const SA_PREFIX = 'system:serviceaccount:';
const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';
const NODE_NAME = 'authentication.kubernetes.io/node-name';

/** What a TokenReview says about the caller. */
export interface ReviewedCaller extends Caller {
  /** The pod the token is bound to, when it is a bound token. */
  readonly pod?: { readonly name: string; readonly uid?: string };
}

/** Reads a TokenReview response (pure). Throws AuthenticationError saying why it is not acceptable. */
export function callerFromTokenReview(
  review: V1TokenReview,
  audiences: readonly string[],
): ReviewedCaller {
  const status = review.status;
  if (!status?.authenticated) {
    throw new AuthenticationError(
      `the token was not authenticated${status?.error ? `: ${status.error}` : ''}`,
    );
  }
  if (
    audiences.length &&
    status.audiences &&
    !status.audiences.some((a) => audiences.includes(a))
  ) {
    throw new AuthenticationError(`the token is not for audience ${audiences.join(' or ')}`);
  }
  const username = status.user?.username ?? '';
  if (!username.startsWith(SA_PREFIX)) {
    throw new AuthenticationError(`the token belongs to "${username}", not to a service account`);
  }
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new AuthenticationError(
      `the token's user "${username}" is not system:serviceaccount:<namespace>:<name>`,
    );
  }
  const extra = status.user?.extra ?? {};
  const first = (key: string) => extra[key]?.[0] || undefined;
  const podName = first(POD_NAME);
  const podUid = first(POD_UID);
  const node = first(NODE_NAME);
  return {
    namespace: parts[0],
    serviceAccount: parts[1],
    ...(node ? { node } : {}),
    ...(podName ? { pod: { name: podName, ...(podUid ? { uid: podUid } : {}) } } : {}),
  };
}

export interface TokenReviewOptions {
  readonly kubeConfig: KubeConfig;
  /** Audiences the token must carry; default ['istio-ca']. */
  readonly audiences?: readonly string[];
}

/** An authenticator backed by the apiserver (TokenReview; the pod when the token lacks the node). */
export function tokenReviewAuthenticator(options: TokenReviewOptions): Authenticator {
  const audiences = options.audiences ?? ['istio-ca'];
  const authn = options.kubeConfig.makeApiClient(AuthenticationV1Api);
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  return {
    async authenticate(token) {
      let review: V1TokenReview;
      try {
        review = await authn.createTokenReview({
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: { token, audiences: [...audiences] },
          },
        });
      } catch (err) {
        // An apiserver failure is not the caller's fault, but we cannot vouch for the token either.
        throw new AuthenticationError(`TokenReview failed: ${(err as Error).message}`);
      }
      const caller = callerFromTokenReview(review, audiences);
      if (caller.node || !caller.pod) return caller;
      const pod = await core
        .readNamespacedPod({ name: caller.pod.name, namespace: caller.namespace })
        .catch(() => undefined);
      const uidMatches = !caller.pod.uid || pod?.metadata?.uid === caller.pod.uid;
      const node = uidMatches ? pod?.spec?.nodeName : undefined;
      return node ? { ...caller, node } : caller;
    },
  };
}
