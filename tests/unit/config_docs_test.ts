import doc from "../../docs/configuration.md" with { type: "text" };
import {
  BEGIN,
  END,
  generatedSection,
  renderSettingsDocs,
  replaceGenerated,
} from "../../scripts/config_docs.ts";
import { envNames } from "../../src/config.ts";
import { SCHEDULER_SETTINGS } from "../../src/scheduler/config.ts";
import { WORKER_SETTINGS } from "../../src/worker/config.ts";
import { assertEquals, assertOk, assertThrows } from "../assert.ts";

Deno.test("docs/configuration.md: the settings tables match the settings lists (run deno task docs)", () => {
  const section = generatedSection(doc);
  assertOk(section !== undefined, `no ${BEGIN} … ${END} section`);
  assertEquals(section, renderSettingsDocs());
});

Deno.test("docs/configuration.md: every variable a process reads has a row", () => {
  const rendered = renderSettingsDocs();
  for (
    const env of [...envNames(SCHEDULER_SETTINGS), ...envNames(WORKER_SETTINGS)]
  ) {
    assertOk(rendered.includes(`| \`${env}\``), env);
  }
});

Deno.test("config docs: only the generated section is replaced", () => {
  const before = `# Title\n\nintro\n\n${BEGIN}\nold\n${END}\n\nafter $& $1\n`;
  const after = replaceGenerated(before, `${BEGIN}\nnew\n${END}`);
  assertEquals(
    after,
    `# Title\n\nintro\n\n${BEGIN}\nnew\n${END}\n\nafter $& $1\n`,
  );
  assertThrows(() => replaceGenerated("no markers", "x"), /no "<!-- generated/);
});
