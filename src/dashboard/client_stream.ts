/**
 * One client's event stream with a bounded queue in front of it.
 *
 * A client that does not read (a stalled tab, a dead connection the kernel
 * has not noticed) fills its queue. The queue is then dropped and the
 * client is owed a fresh snapshot, sent when it reads again, so a slow
 * client never holds memory or its producer back.
 *
 * @module
 */

/**
 * How many chunks the response stream itself buffers before it stops
 * pulling: past that, frames wait in (and overflow) the client's queue.
 */
const STREAM_BUFFER = 8;

/** What a {@linkcode ClientStream} needs from whoever feeds it. */
export interface ClientStreamHooks {
  /** Frames queued before the queue is dropped for a snapshot. */
  limit: number;
  /**
   * Bytes queued before the queue is dropped for a snapshot (default: no
   * bound but `limit`): a delta can be megabytes when thousands of workers
   * change at once, so a frame count alone does not bound the memory.
   */
  limitBytes?: number;
  /** The frames to send first. */
  first: Uint8Array[];
  /** The current snapshot, encoded; called when one is owed and the client reads. */
  snapshot(): Uint8Array;
  /** The queue overflowed and was dropped. */
  resynced(): void;
  /** The stream ended (the client went away, or {@linkcode ClientStream.close}). */
  closed(client: ClientStream): void;
}

/**
 * One connected stream: frames go in with {@linkcode ClientStream.send},
 * and out through {@linkcode ClientStream.stream} as fast as the client
 * reads.
 *
 * @example
 * ```ts
 * const client = new ClientStream({
 *   limit: 128,
 *   first: [SSE_HELLO],
 *   snapshot: () => hub.snapshotFrame(),
 *   resynced: () => {},
 *   closed: () => {},
 * });
 * client.send(frame);
 * return sseResponse(client.stream);
 * ```
 */
export class ClientStream {
  readonly #hooks: ClientStreamHooks;
  #queue: Uint8Array[];
  #queuedBytes = 0;
  #controller?: ReadableStreamDefaultController<Uint8Array>;
  #resync = false;
  #closed = false;
  /** The frames, for a response body; cancelling it closes the client. */
  readonly stream: ReadableStream<Uint8Array>;

  /** Opens the stream with `hooks.first` queued. */
  constructor(hooks: ClientStreamHooks) {
    this.#hooks = hooks;
    this.#queue = [...hooks.first];
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        this.#drain();
      },
      pull: () => this.#drain(),
      cancel: () => this.close(),
    }, new CountQueuingStrategy({ highWaterMark: STREAM_BUFFER }));
  }

  /** Queues a frame; on overflow, forgets the queue and owes a snapshot. */
  send(frame: Uint8Array): void {
    if (this.#closed) return;
    if (this.#resync) {
      // A snapshot is owed; it will include whatever this frame says.
      this.#drain();
      return;
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.byteLength;
    if (
      this.#queue.length > this.#hooks.limit ||
      this.#queuedBytes > (this.#hooks.limitBytes ?? Infinity)
    ) {
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#resync = true;
      this.#hooks.resynced();
    }
    this.#drain();
  }

  /** Ends the stream (if still open) and tells the hooks. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#hooks.closed(this);
    try {
      this.#controller?.close();
    } catch {
      // already closed or errored by the server
    }
  }

  /** Moves frames into the stream while it has room (it pulls as the socket drains). */
  #drain(): void {
    const controller = this.#controller;
    if (!controller || this.#closed) return;
    if (this.#resync) {
      if ((controller.desiredSize ?? 0) <= 0) return;
      this.#resync = false;
      this.#queue = [];
      this.#queuedBytes = 0;
      controller.enqueue(this.#hooks.snapshot());
    }
    while (this.#queue.length > 0 && (controller.desiredSize ?? 0) > 0) {
      const frame = this.#queue.shift()!;
      this.#queuedBytes -= frame.byteLength;
      controller.enqueue(frame);
    }
  }
}
