/**
 * A session's durable state in its Durable Object's SQLite storage: the continuation snapshot
 * (last response id, compared fields, retained input and last output) and counters.
 *
 * Items are stored one row per item, split in parts under the 2 MB row limit (platform notes
 * §7), and appended on delta turns, so that a turn writes only what is new.
 */
import type { SessionSnapshot } from "./turn-planner";

/** Characters per stored part: at most 3 bytes each in UTF-8, so parts stay under 2 MB. */
const partCharacters = 600_000;

export class SessionStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS session_values (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS retained_items (kind TEXT NOT NULL, position INTEGER NOT NULL, part INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (kind, position, part))`,
    );
  }

  value(name: string): string | undefined {
    const row = this.sql.exec<{ value: string }>(`SELECT value FROM session_values WHERE name = ?`, name).toArray()[0];
    return row?.value;
  }

  setValue(name: string, value: string): void {
    this.sql.exec(`INSERT INTO session_values (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, value);
  }

  deleteValue(name: string): void {
    this.sql.exec(`DELETE FROM session_values WHERE name = ?`, name);
  }

  /** Increments and returns a counter (e.g. the upstream connection generation). */
  increment(name: string): number {
    const next = Number(this.value(name) ?? "0") + 1;
    this.setValue(name, String(next));
    return next;
  }

  loadSnapshot(): SessionSnapshot | undefined {
    const header = this.value("snapshot");
    if (!header) return undefined;
    const { lastResponseId, fieldsKey, connectionGeneration } = JSON.parse(header) as Omit<SessionSnapshot, "inputItems" | "outputItems">;
    return {
      lastResponseId,
      fieldsKey,
      connectionGeneration,
      inputItems: this.#items("input"),
      outputItems: this.#items("output").map((text) => JSON.parse(text) as unknown),
    };
  }

  /**
   * Saves a snapshot. `keptInputItems` input items are known to be stored already (a delta
   * turn's retained prefix): only the rest is written.
   */
  saveSnapshot(snapshot: SessionSnapshot, keptInputItems = 0): void {
    this.sql.exec(`DELETE FROM retained_items WHERE kind = 'output'`);
    this.sql.exec(`DELETE FROM retained_items WHERE kind = 'input' AND position >= ?`, keptInputItems);
    for (let position = keptInputItems; position < snapshot.inputItems.length; position += 1) {
      this.#writeItem("input", position, snapshot.inputItems[position]!);
    }
    snapshot.outputItems.forEach((item, position) => this.#writeItem("output", position, JSON.stringify(item)));
    const { lastResponseId, fieldsKey, connectionGeneration } = snapshot;
    this.setValue("snapshot", JSON.stringify({ lastResponseId, fieldsKey, connectionGeneration }));
  }

  /** Keeps the retained items but makes the last response id unusable (generation -1). */
  markChainBroken(): void {
    const header = this.value("snapshot");
    if (!header) return;
    this.setValue("snapshot", JSON.stringify({ ...(JSON.parse(header) as object), connectionGeneration: -1 }));
  }

  clearSnapshot(): void {
    this.deleteValue("snapshot");
    this.sql.exec(`DELETE FROM retained_items`);
  }

  /** Number of input items currently stored (for append-only saves). */
  storedInputCount(): number {
    const row = this.sql.exec<{ count: number }>(`SELECT COUNT(DISTINCT position) AS count FROM retained_items WHERE kind = 'input'`).toArray()[0];
    return row?.count ?? 0;
  }

  #writeItem(kind: "input" | "output", position: number, text: string): void {
    for (let part = 0, start = 0; start < text.length || part === 0; part += 1, start += partCharacters) {
      this.sql.exec(`INSERT OR REPLACE INTO retained_items (kind, position, part, text) VALUES (?, ?, ?, ?)`, kind, position, part, text.slice(start, start + partCharacters));
    }
  }

  #items(kind: "input" | "output"): string[] {
    const items: string[] = [];
    const cursor = this.sql.exec<{ position: number; text: string }>(`SELECT position, text FROM retained_items WHERE kind = ? ORDER BY position, part`, kind);
    for (const row of cursor) items[row.position] = (items[row.position] ?? "") + row.text;
    return items;
  }
}
