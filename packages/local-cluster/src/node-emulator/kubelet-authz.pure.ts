// How a kubelet decides who may use its API (webhook authn/authz mode): the caller is a verified
// client certificate (user = CN, groups = O) or a bearer token checked with TokenReview; what it
// asks for becomes a SubjectAccessReview on the Node object: verb from the HTTP method, resource
// `nodes`, a subresource from the path (`proxy` for exec, attach, port-forward and container logs).

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface NodeAttributes {
  verb: string;
  subresource: string;
}

const VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const isSubpath = (path: string, prefix: string) =>
  path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/** The attributes to authorize, any one of which allows the request (fine-grained authz first). */
export function requestAttributes(method: string, path: string): NodeAttributes[] {
  const verb = VERBS[method.toUpperCase()] ?? '';
  const out: string[] = [];
  if (isSubpath(path, '/pods') || isSubpath(path, '/runningpods')) out.push('pods');
  else if (isSubpath(path, '/healthz')) out.push('healthz');
  else if (isSubpath(path, '/configz')) out.push('configz');
  if (isSubpath(path, '/stats')) out.push('stats');
  else if (isSubpath(path, '/metrics')) out.push('metrics');
  else if (isSubpath(path, '/logs')) out.push('log');
  else if (isSubpath(path, '/checkpoint')) out.push('checkpoint');
  else out.push('proxy');
  return out.map((subresource) => ({ verb, subresource }));
}

/** The user a verified client certificate names: CN and O, plus system:authenticated. */
export function certificateUser(subject: {
  CN?: string | string[];
  O?: string | string[];
}): UserInfo | undefined {
  const cn = Array.isArray(subject.CN) ? subject.CN[0] : subject.CN;
  if (!cn) return undefined;
  const o = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
  return { username: cn, groups: [...o, 'system:authenticated'] };
}

export function subjectAccessReview(user: UserInfo, node: string, a: NodeAttributes): object {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: user.username,
      uid: user.uid,
      groups: user.groups,
      extra: user.extra,
      resourceAttributes: {
        verb: a.verb,
        group: '',
        version: 'v1',
        resource: 'nodes',
        subresource: a.subresource,
        name: node,
      },
    },
  };
}

/** The kubelet's 403 text. */
export function forbiddenMessage(user: UserInfo, a: NodeAttributes): string {
  return `Forbidden (user=${user.username}, verb=${a.verb}, resource=nodes, subresource(s)=[${a.subresource}])`;
}

/** Cache key of one authorization decision. */
export function decisionKey(user: UserInfo, a: NodeAttributes): string {
  return JSON.stringify([
    user.username,
    user.uid,
    [...user.groups].sort(),
    user.extra,
    a.verb,
    a.subresource,
  ]);
}
