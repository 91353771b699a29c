// Text a client chose (a NACK's error_detail, a node id, a type URL) is logged and kept for the
// debug view only as a bounded prefix: one client must not be able to write megabyte log lines
// or make the server hold its payloads. Pure.

/** Longest client text logged or kept, in characters. */
export const CLIENT_TEXT_MAX = 512;

/** `text` when short enough, else its first `max` characters and how many were left out. */
export function clientText(text: string, max = CLIENT_TEXT_MAX): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... (${text.length - max} more characters)`;
}
