/**
 * A bounded memo for per-topic decisions: jobs come in for a handful of
 * topics, so checking each topic once saves work on every job.
 *
 * @module
 */

/**
 * `compute`, remembering up to `limit` answers by key; when full, it forgets
 * them all and starts again (topics are few, so that is rare and cheap).
 *
 * @example
 * ```ts
 * const problem = remembered((topic: string) => subjectProblem(topic));
 * problem("job.echo"); // computed once, then remembered
 * ```
 */
export function remembered<T>(
  compute: (key: string) => T,
  limit = 1024,
): (key: string) => T {
  const answers = new Map<string, T>();
  return (key) => {
    if (answers.has(key)) return answers.get(key) as T;
    const answer = compute(key);
    if (answers.size >= limit) answers.clear();
    answers.set(key, answer);
    return answer;
  };
}
