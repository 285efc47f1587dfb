/**
 * Server-Sent Events framing: an event as the `id:`/`event:`/`data:` bytes
 * of the `text/event-stream` format, the frames every stream opens with and
 * idles on, and the response that carries them.
 *
 * A frame is encoded once and the same bytes go to every client, so this
 * module deals in `Uint8Array`s, not in a writer per connection (which is
 * what Hono's `streamSSE` offers).
 *
 * @module
 */

const encoder = new TextEncoder();

/** One event of an event stream. */
export interface SseMessage {
  /** The event id, which a reconnecting EventSource sends as `Last-Event-ID`. No line break. */
  id?: string;
  /** The event type the client listens for. No line break. Default: `message`. */
  event?: string;
  /** The payload; each line of it becomes one `data:` line. */
  data: string;
}

/**
 * Encodes one event as a frame: `id:`, `event:`, one `data:` line per line
 * of `data`, and the blank line that ends it.
 *
 * @throws {TypeError} when `id` or `event` contains a line break, which
 * would end the field early and let the rest be read as other fields.
 * @example
 * ```ts
 * sseFrame({ id: "a.1", event: "delta", data: JSON.stringify({ n: 1 }) });
 * // the bytes of 'id: a.1\nevent: delta\ndata: {"n":1}\n\n'
 * ```
 */
export function sseFrame(message: SseMessage): Uint8Array {
  let text = "";
  for (const key of ["id", "event"] as const) {
    const value = message[key];
    if (value === undefined) continue;
    if (/[\r\n]/.test(value)) {
      throw new TypeError(
        `an SSE ${key} must not contain a line break: ${JSON.stringify(value)}`,
      );
    }
    text += `${key}: ${value}\n`;
  }
  for (const line of message.data.split(/\r\n|\r|\n/)) {
    text += `data: ${line}\n`;
  }
  return encoder.encode(`${text}\n`);
}

/**
 * The first frame of every stream: tells EventSource to retry after 2 s
 * rather than its default 3 s, and gives the client bytes at once so
 * proxies and browsers see the stream is open.
 */
export const SSE_HELLO: Uint8Array = encoder.encode(
  "retry: 2000\n: connected\n\n",
);

/**
 * A comment frame sent on an idle stream, so that proxies do not time it
 * out and a dead connection is noticed when the write fails.
 */
export const SSE_KEEP_ALIVE: Uint8Array = encoder.encode(": keep-alive\n\n");

/**
 * Wraps a stream of frames in a `text/event-stream` response that no cache,
 * transform or proxy buffer holds back.
 *
 * @example
 * ```ts
 * const body = ReadableStream.from([SSE_HELLO]);
 * return sseResponse(body);
 * ```
 */
export function sseResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx buffers responses unless told otherwise, which would hold
      // events back until its buffer fills.
      "x-accel-buffering": "no",
    },
  });
}
