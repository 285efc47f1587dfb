import { subjectMatches, subjectProblem } from "../../src/bus/subjects.ts";
import { assertEquals, assertOk } from "../assert.ts";

Deno.test("subjectProblem accepts plain subjects and rejects malformed ones", () => {
  assertEquals(subjectProblem("job.echo"), undefined);
  assertEquals(subjectProblem("a"), undefined);
  for (
    const bad of ["", "job..echo", ".job", "job.", "job echo", "job.\techo"]
  ) {
    assertOk(subjectProblem(bad), `"${bad}" should be rejected`);
  }
});

Deno.test("subjectProblem allows wildcards only when asked, and only as whole tokens", () => {
  assertOk(subjectProblem("job.*")?.includes("wildcard"));
  assertOk(subjectProblem("job.>")?.includes("wildcard"));
  assertEquals(subjectProblem("job.*", { wildcards: true }), undefined);
  assertEquals(subjectProblem("job.>", { wildcards: true }), undefined);
  assertOk(subjectProblem("job.>.x", { wildcards: true }));
  assertOk(subjectProblem("job.a*", { wildcards: true }));
});

Deno.test("subjectMatches follows NATS wildcard rules", () => {
  assertOk(subjectMatches("sys.destroy", "sys.destroy"));
  assertOk(!subjectMatches("sys.destroy", "sys.destroy.now"));
  assertOk(subjectMatches("job.*", "job.echo"));
  assertOk(!subjectMatches("job.*", "job.echo.fast"));
  assertOk(!subjectMatches("job.*", "job"));
  assertOk(subjectMatches("job.>", "job.echo.fast"));
  assertOk(!subjectMatches("job.>", "job"));
  assertOk(subjectMatches(">", "anything.at.all"));
});
