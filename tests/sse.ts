/**
 * A Server-Sent Events reader for tests: parses a response body into
 * events (and comments) one at a time, as a browser's EventSource would.
 *
 * @module
 */

/** One parsed event; `comment` holds a comment line's text instead. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

/** Reads events from an event-stream body. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #pending: SseEvent[] = [];

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /**
   * The next event or comment; rejects after `timeoutMs` (default 5 s) or
   * when the stream ends.
   */
  async next(timeoutMs = 5_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.length === 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no SSE event within ${timeoutMs} ms`)),
          Math.max(0, deadline - Date.now()),
        );
      });
      try {
        const { done, value } = await Promise.race([
          this.#reader.read(),
          timeout,
        ]);
        if (done) throw new Error("the event stream ended");
        this.#buffer += this.#decoder.decode(value, { stream: true });
        this.#parse();
      } finally {
        clearTimeout(timer);
      }
    }
    return this.#pending.shift()!;
  }

  /** The next event that is not a comment (nor a bare `retry:`). */
  async nextEvent(timeoutMs = 5_000): Promise<SseEvent & { data: string }> {
    for (;;) {
      const e = await this.next(timeoutMs);
      if (e.data !== undefined) return e as SseEvent & { data: string };
    }
  }

  /** Stops reading; the server sees the client go away. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  #parse(): void {
    let end: number;
    while ((end = this.#buffer.indexOf("\n\n")) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event: SseEvent = {};
      const comments: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) {
          comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") event.id = value;
        else if (field === "event") event.event = value;
        else if (field === "data") {
          event.data = event.data === undefined
            ? value
            : `${event.data}\n${value}`;
        } else if (field === "retry") event.retry = Number(value);
      }
      if (event.data !== undefined || event.retry !== undefined) {
        this.#pending.push(event);
      }
      for (const comment of comments) this.#pending.push({ comment });
    }
  }
}
