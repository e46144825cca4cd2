import { createClient } from "@libsql/client";
import mysql from "mysql2/promise";
import { describe, expect, it } from "vitest";
import { dialectCases, mysqlUrl } from "../support/dialects.ts";
import { createTestGateway } from "../support/test-gateway.ts";

const mysqlCase = dialectCases.find((d) => d.name === "mysql")!;
const sqliteCase = dialectCases.find((d) => d.name === "sqlite")!;

describe("one schema in every frontend database", () => {
  it.skipIf(mysqlCase.skip)("MySQL: aipack_style and aipack_logo get identical tables and columns", async () => {
    const { deps, config } = await createTestGateway(mysqlCase);
    await Promise.all([...deps.controllers.values()].map((controller) => controller.ready()));
    const connection = await mysql.createConnection({ uri: mysqlUrl! });
    try {
      const columnsOf = async (database: string) => {
        const [rows] = await connection.query<mysql.RowDataPacket[]>(
          "SELECT table_name t, column_name c, column_type y, is_nullable n FROM information_schema.columns WHERE table_schema = ? ORDER BY t, ordinal_position",
          [database],
        );
        return rows.map((row) => `${row.t}.${row.c} ${row.y} ${row.n}`);
      };
      const style = config.databases.style!;
      const logo = config.databases.logo!;
      if (style.kind !== "mysql" || logo.kind !== "mysql") throw new Error("expected MySQL targets");
      expect(style.database).toMatch(/style$/);
      const styleColumns = await columnsOf(style.database);
      expect(styleColumns).toContain("users.external_id varchar(128) NO");
      expect(styleColumns.filter((column) => column.startsWith("photos.")).length).toBeGreaterThan(10);
      expect(styleColumns).toContain("webhook_deliveries.next_attempt_at datetime(3) NO");
      expect(await columnsOf(logo.database)).toEqual(styleColumns);
    } finally {
      await connection.end();
    }
  });

  it("SQLite: one file per frontend with identical tables", async () => {
    const { deps, config } = await createTestGateway(sqliteCase);
    await Promise.all([...deps.controllers.values()].map((controller) => controller.ready()));
    const columnsOf = async (file: string) => {
      const client = createClient({ url: `file:${file}` });
      const columns: string[] = [];
      for (const table of ["users", "photos", "api_keys", "signing_keys", "webhook_endpoints", "webhook_deliveries"]) {
        const result = await client.execute(`PRAGMA table_info(${table})`);
        columns.push(...result.rows.map((row) => `${table}.${row.name} ${row.type} ${row.notnull}`));
      }
      client.close();
      return columns;
    };
    const style = config.databases.style!;
    const logo = config.databases.logo!;
    if (style.kind !== "sqlite" || logo.kind !== "sqlite") throw new Error("expected SQLite targets");
    expect(style.file).not.toBe(logo.file);
    const styleColumns = await columnsOf(style.file);
    expect(styleColumns).toContain("users.external_id text(128) 1");
    expect(styleColumns).toContain("webhook_deliveries.next_attempt_at INTEGER 1");
    expect(await columnsOf(logo.file)).toEqual(styleColumns);
  });
});

describe("the two dialects' schemas", () => {
  it("name the same columns, in the same order, in every table", async () => {
    const { getTableConfig: mysqlConfig } = await import("drizzle-orm/mysql-core");
    const { getTableConfig: sqliteConfig } = await import("drizzle-orm/sqlite-core");
    const mysqlTables = await import("../../src/schema/mysql.ts");
    const sqliteTables = await import("../../src/schema/sqlite.ts");
    const describeMysql = Object.values(mysqlTables).map((table) => {
      const config = mysqlConfig(table);
      return `${config.name}: ${config.columns.map((column) => `${column.name}${column.notNull ? "!" : ""}`).join(", ")}`;
    });
    const describeSqlite = Object.values(sqliteTables).map((table) => {
      const config = sqliteConfig(table);
      return `${config.name}: ${config.columns.map((column) => `${column.name}${column.notNull ? "!" : ""}`).join(", ")}`;
    });
    expect(describeSqlite.sort()).toEqual(describeMysql.sort());
    expect(describeMysql.map((entry) => entry.split(":")[0])).toEqual(expect.arrayContaining(["webhook_endpoints", "webhook_deliveries"]));
  });
});
