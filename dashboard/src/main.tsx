/// <reference lib="dom" />
/**
 * The dashboard's entry point, bundled to `dashboard/dist/app.js` by
 * `deno task build:dashboard`.
 *
 * @module
 */
import { render } from "preact";
import { App } from "./app.tsx";

render(<App />, document.getElementById("app")!);
