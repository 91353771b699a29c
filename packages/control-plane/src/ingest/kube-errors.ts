// Short, readable messages for errors of @kubernetes/client-node (whose ApiException message
// carries the whole response with headers): the HTTP code and the apiserver's own message.

/** The HTTP status of a client-node error (ApiException.code, or statusCode from a watch). */
export function kubeStatusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

export function kubeErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const body = (err as { body?: unknown }).body;
  let reason: string | undefined;
  if (typeof body === 'string') {
    try {
      reason = (JSON.parse(body) as { message?: string }).message;
    } catch {
      reason = undefined;
    }
  } else if (body && typeof body === 'object') {
    reason = (body as { message?: string }).message;
  }
  const code = kubeStatusOf(err);
  if (reason) return code !== undefined ? `HTTP ${code}: ${reason}` : reason;
  return err.message.split('\n')[0]!;
}

/** The first line of an error's message, followed by the apiserver's message of its cause, if any. */
export function describeKubeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const first = err.message.split('\n')[0]!;
  const cause = (err as { cause?: unknown }).cause;
  if (cause === undefined) return kubeErrorMessage(err);
  const inner = kubeErrorMessage(cause);
  const head = first.includes('HTTP-Code')
    ? first.slice(0, first.indexOf('HTTP-Code')).replace(/[:\s]+$/, '')
    : first;
  return `${head}: ${inner}`;
}
