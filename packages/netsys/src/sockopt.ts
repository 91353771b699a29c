// Socket options Node.js does not expose: SO_MARK and IP_TRANSPARENT / IPV6_TRANSPARENT.
import { addon } from './addon.js';

/** Sets SO_MARK (needs CAP_NET_ADMIN); `mark` is an integer from 0 to 0xffffffff. */
export function setMark(fd: number, mark: number): void {
  addon().setMark(fd, mark);
}

/** Reads SO_MARK. */
export function getMark(fd: number): number {
  return addon().getMark(fd);
}

/** Sets IP_TRANSPARENT (family 4) or IPV6_TRANSPARENT (family 6). */
export function setTransparent(fd: number, on: boolean, family: 4 | 6): void {
  addon().setTransparent(fd, on, family);
}

/** Reads IP_TRANSPARENT (family 4) or IPV6_TRANSPARENT (family 6). */
export function getTransparent(fd: number, family: 4 | 6): boolean {
  return addon().getTransparent(fd, family);
}
