/**
 * The SDK's payload encoding, the same both ways (a job's input and a
 * handler's output): a `Uint8Array` goes as is, a string as UTF-8, any
 * other value as JSON.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The bytes a payload or a handler's return value travels as.
 *
 * @throws {TypeError} for a value JSON cannot carry (`undefined`, a
 * function, a symbol, a BigInt, a cycle).
 * @example
 * ```ts
 * encodePayload({ n: 1 }); // the bytes of '{"n":1}'
 * encodePayload("hi"); // the bytes of 'hi'
 * ```
 */
export function encodePayload(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(
      `payload cannot be sent as JSON: ${(error as Error).message}`,
    );
  }
  if (json === undefined) {
    throw new TypeError(
      `payload cannot be sent as JSON: a ${typeof value} has no JSON form (send a Uint8Array, a string or a JSON value)`,
    );
  }
  return encoder.encode(json);
}

/** `bytes` read as UTF-8 text. */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * `bytes` read as UTF-8 JSON.
 *
 * @throws {SyntaxError} when they are not JSON, saying so.
 */
export function decodeJson<T = unknown>(bytes: Uint8Array): T {
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SyntaxError(
      `not JSON (${bytes.length} bytes): ${(error as Error).message}`,
    );
  }
}

/**
 * `bytes` as a plain `Uint8Array` over the same memory: the NATS client
 * hands out Node `Buffer`s, which compare and print differently. Typed as
 * over an `ArrayBuffer` (never shared memory, here), so it passes where Web
 * APIs want a `BufferSource` (`crypto.subtle.digest`, `fetch` bodies).
 */
export function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return (bytes.constructor === Uint8Array ? bytes : new Uint8Array(
    bytes.buffer,
    bytes.byteOffset,
    bytes.byteLength,
  )) as Uint8Array<ArrayBuffer>;
}
