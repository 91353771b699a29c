// Authentication and authorization of callers of the emulator's kubelet API, against the real
// apiserver: client certificates signed by the cluster CA, bearer tokens via TokenReview, and a
// SubjectAccessReview per request (decisions cached like the kubelet's webhook: 5 min when allowed,
// 30 s when denied).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KubeClient } from '../kube-client.js';
import {
  certificateUser,
  decisionKey,
  forbiddenMessage,
  requestAttributes,
  subjectAccessReview,
  type UserInfo,
} from './kubelet-authz.pure.js';

const ALLOWED_TTL_MS = 5 * 60_000;
const DENIED_TTL_MS = 30_000;

export type AuthResult =
  { ok: true; user: UserInfo } | { ok: false; status: 401 | 403 | 500; message: string };

export class KubeletAuth {
  private readonly decisions = new Map<string, { allowed: boolean; until: number }>();
  private readonly tokens = new Map<string, { user: UserInfo | undefined; until: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
  ) {}

  async check(req: IncomingMessage): Promise<AuthResult> {
    let user: UserInfo | undefined;
    try {
      user = await this.authenticate(req);
    } catch (e) {
      return { ok: false, status: 500, message: `authentication failed: ${(e as Error).message}` };
    }
    if (!user) return { ok: false, status: 401, message: 'Unauthorized' };
    const path = new URL(req.url ?? '/', 'https://kubelet').pathname;
    const attrs = requestAttributes(req.method ?? 'GET', path);
    try {
      for (const a of attrs) if (await this.allowed(user, a)) return { ok: true, user };
    } catch (e) {
      return { ok: false, status: 500, message: `authorization failed: ${(e as Error).message}` };
    }
    return { ok: false, status: 403, message: forbiddenMessage(user, attrs.at(-1)!) };
  }

  private async authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const user = certificateUser(sock.getPeerCertificate().subject ?? {});
      if (user) return user;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const token = m[1]!;
    const cached = this.tokens.get(token);
    if (cached && cached.until > Date.now()) return cached.user;
    const r = await this.client.req('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const u = r.status?.authenticated ? r.status.user : undefined;
    const user: UserInfo | undefined = u
      ? { username: u.username, uid: u.uid, groups: u.groups ?? [], extra: u.extra }
      : undefined;
    this.tokens.set(token, { user, until: Date.now() + (user ? 2 * 60_000 : 10_000) });
    return user;
  }

  private async allowed(
    user: UserInfo,
    a: { verb: string; subresource: string },
  ): Promise<boolean> {
    const key = decisionKey(user, a);
    const cached = this.decisions.get(key);
    if (cached && cached.until > Date.now()) return cached.allowed;
    const r = await this.client.req(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      subjectAccessReview(user, this.nodeName, a),
    );
    const allowed = Boolean(r.status?.allowed);
    this.decisions.set(key, {
      allowed,
      until: Date.now() + (allowed ? ALLOWED_TTL_MS : DENIED_TTL_MS),
    });
    return allowed;
  }
}
