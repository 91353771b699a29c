// The error thrown when bytes do not decode as the expected protobuf message.

export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';

  constructor(
    /** Full name of the message that was expected, e.g. "istio.workload.Address". */
    readonly typeName: string,
    cause: unknown,
  ) {
    super(`cannot decode ${typeName}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
