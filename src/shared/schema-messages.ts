/**
 * English messages for schema issues that carry no message of their own. The schemas use
 * `zod/mini`, which loads no locale (classic `zod` loads English and bundles some forty others)
 * and would say "Invalid input" to everything. These are classic zod's English texts for the
 * issues our schemas raise, so a client still reads
 * `temperature: Invalid input: expected number, received string`.
 *
 * Every module that declares schemas imports this one, which installs the messages before any
 * parse: `import "../shared/schema-messages";`.
 */
import * as z from "zod/mini";

const units: Record<string, string> = { string: "characters", array: "items" };

function typeName(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "array";
  if (typeof input === "number" && !Number.isFinite(input)) return String(input);
  return typeof input;
}

function quoted(values: readonly unknown[], separator: string): string {
  return values.map((value) => (typeof value === "string" ? `"${value}"` : String(value))).join(separator);
}

function schemaMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `Invalid input: expected ${issue.expected}, received ${typeName(issue.input)}`;
    case "invalid_value":
      return issue.values.length === 1 ? `Invalid input: expected ${quoted(issue.values, "")}` : `Invalid option: expected one of ${quoted(issue.values, "|")}`;
    case "too_small":
    case "too_big": {
      const [words, bound, inclusive] = issue.code === "too_small" ? ["Too small", issue.minimum, ">="] : ["Too big", issue.maximum, "<="];
      const relation = issue.exact ? "exactly " : issue.inclusive ? inclusive : inclusive[0];
      const unit = units[issue.origin];
      return `${words}: expected ${issue.origin} to ${unit ? `have ${relation}${bound} ${unit}` : `be ${relation}${bound}`}`;
    }
    case "unrecognized_keys":
      return `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${quoted(issue.keys, ", ")}`;
    default:
      // A union no option of which matched (our discriminated unions name their options themselves).
      return "Invalid input";
  }
}

z.config({ localeError: schemaMessage });
