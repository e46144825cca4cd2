import { defineConfig } from "drizzle-kit";

// MySQL is production. The SQLite default has its own config (drizzle.sqlite.config.ts);
// `npm run db:generate` runs both so the two migration sets move together.
export default defineConfig({
  dialect: "mysql",
  schema: "./src/schema/mysql.ts",
  out: "./drizzle/mysql",
});
