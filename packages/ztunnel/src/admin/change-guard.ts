// Who may change ztunnel through its admin port (POST /logging, POST /quitquitquit): the admin
// port is meant for localhost, so a peer from elsewhere is refused unless the operator allowed it,
// and a request a browser made on behalf of another site (its Origin or Sec-Fetch-Site says so)
// is refused always, so a web page cannot shut ztunnel down or turn on trace logging. Reading
// (/config_dump, GET /logging) is not restricted here. Pure.
import { isLoopbackIp } from '@trellis/core';

export interface ChangeRequest {
  readonly method: string;
  readonly path: string;
  /** The TCP peer address. */
  readonly peer: string | undefined;
  /** Header values, lower-case names. */
  readonly host?: string;
  readonly origin?: string;
  readonly secFetchSite?: string;
}

/** Why this change request is refused (answered 403), or undefined when it may go ahead. */
export function changeRefusal(r: ChangeRequest, allowRemote: boolean): string | undefined {
  const what = `${r.method} ${r.path}`;
  if (!allowRemote && (r.peer === undefined || !isLoopbackIp(r.peer)))
    return `${what} is only accepted from localhost (this request came from ${r.peer ?? 'an unknown address'}); start ztunnel with --admin-allow-remote-changes to allow it`;
  if (r.secFetchSite === 'cross-site' || r.secFetchSite === 'same-site')
    return `${what}: cross-origin request refused (Sec-Fetch-Site: ${r.secFetchSite})`;
  if (r.origin !== undefined && r.origin !== `http://${r.host ?? ''}`)
    return `${what}: cross-origin request refused (Origin ${JSON.stringify(r.origin)} is not this admin server)`;
  return undefined;
}
