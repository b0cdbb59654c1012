/**
 * Redraws docs/benchmarks.md and its chart from the last run's figures
 * (docs/benchmarks.json), without measuring again: for a change to the
 * report's text or chart.
 *
 *   .tools/bin/deno task bench:render
 */
import { publishReport, type SuiteResults } from "./lib/report.ts";

const file = new URL("../docs/benchmarks.json", import.meta.url);
console.log(await publishReport(JSON.parse(await Deno.readTextFile(file)) as SuiteResults));
