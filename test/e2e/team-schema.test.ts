// The team's tables have two sources that must agree: migrations/ (what `npm start` and
// `wrangler d1 migrations apply` run) and src/team/team-schema-statements.ts (what the Worker runs
// when a table is missing). The same statements, comments and spacing aside.
import { readFileSync, readdirSync } from "node:fs";
import { expect, it } from "vitest";
import { teamSchemaStatements } from "../../src/team/team-schema-statements";

const normalised = (statement: string) =>
  statement
    .split("\n")
    .map((line) => line.replace(/--.*$/, "").trim())
    .filter(Boolean)
    .join(" ")
    .replace(/\s+/g, " ")
    .replace(/;$/, "")
    .trim();

it("the migrations and the Worker's own schema are the same statements", () => {
  const folder = new URL("../../migrations/", import.meta.url);
  const migrations = readdirSync(folder).filter((name) => name.endsWith(".sql")).sort();
  const fromMigrations = migrations.flatMap((name) =>
    readFileSync(new URL(name, folder), "utf8")
      .split(/;\s*\n/)
      .map(normalised)
      .filter(Boolean),
  );
  expect(teamSchemaStatements.map(normalised)).toEqual(fromMigrations);
});
