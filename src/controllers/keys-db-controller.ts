import { desc, eq } from "drizzle-orm";
import type { Database } from "../db/database.ts";
import { isDuplicateKey } from "../errors/database-errors.ts";
import type { Clock } from "../lib/clock.ts";
import { randomId } from "../lib/ids.ts";
import type { ApiKeyRow } from "../schema/index.ts";

/** The one signing secret's row id: a fixed id lets racing replicas agree on a single secret. */
const signingKeyId = "primary";

/** A frontend's credentials in its own database: hashed API keys and the token signing secret. */
export class KeysDBController {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  private get tables() {
    return this.database.tables;
  }

  async addApiKey(input: { id: string; hash: string; label?: string | null }): Promise<void> {
    await this.database.db.insert(this.tables.apiKeys).values({ ...input, label: input.label ?? null, createdAt: this.clock.now(), revokedAt: null });
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.database.db.select().from(this.tables.apiKeys).where(eq(this.tables.apiKeys.id, id)).limit(1);
    return row;
  }

  /** Every key, newest first (hashes included: callers show only ids, labels and dates). */
  async listApiKeys(): Promise<ApiKeyRow[]> {
    return this.database.db.select().from(this.tables.apiKeys).orderBy(desc(this.tables.apiKeys.createdAt));
  }

  /** Marks a key revoked; false when there is no such key. */
  async revokeApiKey(id: string): Promise<boolean> {
    const row = await this.getApiKey(id);
    if (!row) return false;
    if (!row.revokedAt) await this.database.db.update(this.tables.apiKeys).set({ revokedAt: this.clock.now() }).where(eq(this.tables.apiKeys.id, id));
    return true;
  }

  /** The secret that signs this frontend's user tokens, created on first use. */
  async signingSecret(): Promise<{ id: string; secret: string }> {
    const table = this.tables.signingKeys;
    const read = async () => (await this.database.db.select().from(table).where(eq(table.id, signingKeyId)).limit(1))[0];
    const existing = await read();
    if (existing) return existing;
    try {
      await this.database.db.insert(table).values({ id: signingKeyId, secret: randomId(32), createdAt: this.clock.now() });
    } catch (error) {
      // Another replica created it first: use theirs.
      if (!isDuplicateKey(error)) throw error;
    }
    const created = await read();
    if (!created) throw new Error("signing secret missing right after it was written");
    return created;
  }
}
