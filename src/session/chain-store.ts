/**
 * A session's durable state in its Durable Object's SQLite storage: per chain (one conversation
 * of the session) its header, compared fields, retained input and last output; and a few
 * session values (counters, reasoning owners, when the last turn was).
 *
 * Items are stored one row per item, split in parts under the 2 MB row limit (platform notes
 * in docs/protocol.md §7), and appended on delta turns, so that a turn writes only what is new.
 * A chain's compared fields (tools, instructions: tens of KB) are written when they change, not
 * every turn.
 */

/** Characters per stored part: at most 3 bytes each in UTF-8, so parts stay under 2 MB. */
const partCharacters = 600_000;

/** What a chain keeps in storage besides its items; small, read whole when the object wakes. */
export interface ChainHeader {
  id: string;
  lastResponseId: string | undefined;
  /** The upstream connection the response id lives on; -1: the chain cannot be continued. */
  connectionGeneration: number;
  accountId: string | undefined;
  inputCount: number;
  /** Characters of retained input and output (the session's retention budget). */
  retainedCharacters: number;
  /** A fingerprint of the first input item's text: which conversation this is (routing reasons). */
  firstItemKey: string | undefined;
  lastActivity: number;
}

export type ItemKind = "input" | "output" | "fields";

export class ChainStore {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    // The one-chain layout of earlier versions is a cache of conversations: dropped, not migrated
    // (its sessions continue with one full send).
    this.sql.exec(`DROP TABLE IF EXISTS retained_items`);
    this.#createTables();
  }

  #createTables(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS session_values (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS chains (id TEXT PRIMARY KEY, header TEXT NOT NULL)`);
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS chain_items (chain TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL, part INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (chain, kind, position, part))`,
    );
  }

  value(name: string): string | undefined {
    const row = this.sql.exec<{ value: string }>(`SELECT value FROM session_values WHERE name = ?`, name).toArray()[0];
    return row?.value;
  }

  setValue(name: string, value: string): void {
    this.sql.exec(`INSERT INTO session_values (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, value);
  }

  /** Increments and returns a counter (connection generations, chain ids). */
  increment(name: string): number {
    const next = Number(this.value(name) ?? "0") + 1;
    this.setValue(name, String(next));
    return next;
  }

  headers(): ChainHeader[] {
    return this.sql.exec<{ header: string }>(`SELECT header FROM chains`).toArray().map((row) => JSON.parse(row.header) as ChainHeader);
  }

  saveHeader(header: ChainHeader): void {
    this.sql.exec(`INSERT INTO chains (id, header) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET header = excluded.header`, header.id, JSON.stringify(header));
  }

  /**
   * A completed turn, in one transaction: the header, the fields if they changed, the output,
   * and the input items from `keptInputItems` on (those before are stored already).
   */
  saveTurn(header: ChainHeader, turn: { fieldsKey?: string; inputItems: string[]; keptInputItems: number; outputItems: string[] }): void {
    this.storage.transactionSync(() => {
      const chain = header.id;
      if (turn.fieldsKey !== undefined) {
        this.sql.exec(`DELETE FROM chain_items WHERE chain = ? AND kind = 'fields'`, chain);
        this.#writeItem(chain, "fields", 0, turn.fieldsKey);
      }
      this.sql.exec(`DELETE FROM chain_items WHERE chain = ? AND kind = 'output'`, chain);
      this.sql.exec(`DELETE FROM chain_items WHERE chain = ? AND kind = 'input' AND position >= ?`, chain, turn.keptInputItems);
      for (let position = turn.keptInputItems; position < turn.inputItems.length; position += 1) this.#writeItem(chain, "input", position, turn.inputItems[position]!);
      turn.outputItems.forEach((text, position) => this.#writeItem(chain, "output", position, text));
      this.saveHeader(header);
    });
  }

  items(chain: string, kind: ItemKind): string[] {
    const items: string[] = [];
    const cursor = this.sql.exec<{ position: number; text: string }>(`SELECT position, text FROM chain_items WHERE chain = ? AND kind = ? ORDER BY position, part`, chain, kind);
    for (const row of cursor) items[row.position] = (items[row.position] ?? "") + row.text;
    return items;
  }

  deleteChain(chain: string): void {
    this.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM chain_items WHERE chain = ?`, chain);
      this.sql.exec(`DELETE FROM chains WHERE id = ?`, chain);
    });
  }

  /** Everything this object stored, and its alarm: the session is forgotten. */
  async deleteAll(): Promise<void> {
    await this.storage.deleteAlarm();
    await this.storage.deleteAll();
    // The tables went too; this object may still serve a request before it is evicted.
    this.#createTables();
  }

  #writeItem(chain: string, kind: ItemKind, position: number, text: string): void {
    for (let part = 0, start = 0; start < text.length || part === 0; part += 1, start += partCharacters) {
      this.sql.exec(`INSERT OR REPLACE INTO chain_items (chain, kind, position, part, text) VALUES (?, ?, ?, ?, ?)`, chain, kind, position, part, text.slice(start, start + partCharacters));
    }
  }
}
