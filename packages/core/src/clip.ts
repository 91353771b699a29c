// Text someone else chose (a client's request, a peer's response, a file's value) quoted in an
// answer or a log line: at most `max` characters of it, so that one request cannot write a
// megabyte log line or reply. Pure.

/** `text` when it has at most `max` characters, else its first `max` and how many were left out. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}... (${text.length - max} more characters)`;
}
