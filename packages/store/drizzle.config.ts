import { defineConfig } from 'drizzle-kit';

// `pnpm --filter @evergreen/store generate` writes a new migration after a schema change; commit it.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
});
