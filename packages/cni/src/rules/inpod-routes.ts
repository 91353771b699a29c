// The policy routing inside each pod's netns (pure): connections marked 0x111 are delivered locally,
// so ztunnel's transparent sockets (bound to a peer's address) receive their replies.
import {
  CONNECTION_MARK,
  MARK_MASK,
  ROUTE_TABLE,
  RULE_PRIORITY,
  hex,
  type IpFamily,
} from './constants.js';

/** `ip` argument lists (without the leading `ip`) to run in the pod netns, in order. */
export function inpodRouteCommands(family: IpFamily): string[][] {
  if (family !== 4 && family !== 6)
    throw new TypeError(`inpodRouteCommands: family must be 4 or 6, got ${String(family)}`);
  const f = `-${family}`;
  return [
    [
      f,
      'rule',
      'add',
      'fwmark',
      `${hex(CONNECTION_MARK)}/${hex(MARK_MASK)}`,
      'pref',
      String(RULE_PRIORITY),
      'lookup',
      String(ROUTE_TABLE),
    ],
    [
      f,
      'route',
      'add',
      'local',
      family === 4 ? '0.0.0.0/0' : '::/0',
      'dev',
      'lo',
      'table',
      String(ROUTE_TABLE),
    ],
  ];
}
