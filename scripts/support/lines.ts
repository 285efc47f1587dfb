/**
 * A child process's output, line by line.
 *
 * @module
 */

/**
 * Calls `onLine` with each line of `stream` (without its newline or a
 * trailing `\r`; a last unterminated line too), and resolves when the stream
 * ends.
 *
 * @example
 * ```ts
 * await eachLine(child.stderr, (line) => console.log(prefix(line)));
 * ```
 */
export async function eachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  // A TextDecoder rather than TextDecoderStream: with the dashboard's DOM
  // types in the same type-check, TextDecoderStream's types do not match.
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = parts.pop()!;
    for (const line of parts) onLine(line.replace(/\r$/, ""));
  }
  rest += decoder.decode();
  if (rest) onLine(rest);
}
