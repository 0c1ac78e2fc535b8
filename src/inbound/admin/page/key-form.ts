/**
 * The key forms' fields (keys-section.tsx) as the admin API's bodies: the same zod schemas then
 * judge them (createKeySchema, updateKeySchema in src/team/gateway-keys.ts), so a limit is as
 * valid from the page as from the API. A form sends text: models are comma-separated, an empty limit is no limit, `1,000` is a thousand.
 */

type FormBody = Record<string, string | File | (string | File)[]>;

const limitNames = ["requests_per_minute", "concurrent_streams", "tokens_per_day", "tokens_per_month"] as const;

const fieldLabels: Record<string, string> = {
  name: "Name",
  models: "Models",
  requests_per_minute: "Requests / minute",
  concurrent_streams: "Concurrent streams",
  tokens_per_day: "Tokens / day",
  tokens_per_month: "Tokens / month",
};

function text(form: FormBody, name: string): string {
  const value = form[name];
  return typeof value === "string" ? value.trim() : "";
}

/** A key's fields from the form: what `createKeySchema` / `updateKeySchema` then check. */
export function keyFields(form: FormBody): Record<string, unknown> {
  const models = text(form, "models")
    .split(/[,\s]+/)
    .filter(Boolean);
  const limits: Record<string, number> = {};
  for (const name of limitNames) {
    const value = text(form, name).replace(/[\s,_]/g, "");
    // Not a number stays NaN, which the schema refuses with "must be a number".
    if (value) limits[name] = Number(value);
  }
  return { name: text(form, "name"), models: models.length > 0 ? models : null, limits };
}

/** What is wrong with a form, in the page's words ("Tokens / day: must be greater than zero"). */
export function formProblem(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  if (!issue) return "The form is not valid.";
  const field = issue.path[issue.path.length - 1];
  const label = typeof field === "string" ? (fieldLabels[field] ?? field) : typeof field === "number" ? `${fieldLabels.models} (entry ${field + 1})` : undefined;
  return `${label ? `${label}: ` : ""}${issue.message}`;
}
