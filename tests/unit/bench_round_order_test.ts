/**
 * The bench's round order: over four rounds every system runs as often
 * before each neighbour as after it, and each of scenario 1's two CortexOS
 * drivers (systems 2 and 3) runs first after the baselines once.
 */
import { roundOrder } from "../../scripts/bench/runs.ts";
import { assertEquals } from "../assert.ts";

Deno.test("roundOrder: reversed every other round, neighbours swapped every other pair of rounds", () => {
  const rounds = [0, 1, 2, 3].map((r) => roundOrder(r, 4));
  assertEquals(rounds, [
    [0, 1, 2, 3],
    [3, 2, 1, 0],
    [1, 0, 3, 2],
    [2, 3, 0, 1],
  ]);
  // Which system each CortexOS driver ran right after, over the four rounds.
  const before = new Map<number, number[]>([[2, []], [3, []]]);
  const sequence = rounds.flat();
  for (let i = 1; i < sequence.length; i++) {
    before.get(sequence[i])?.push(sequence[i - 1]);
  }
  const afterBaseline = (k: number) =>
    before.get(k)!.filter((previous) => previous < 2).length;
  assertEquals([afterBaseline(2), afterBaseline(3)], [1, 1]);
  assertEquals(roundOrder(0, 2), [0, 1]);
  assertEquals(roundOrder(1, 3), [2, 1, 0]);
});
