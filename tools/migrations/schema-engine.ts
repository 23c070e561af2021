// Prisma's schema engine, as WebAssembly, so migrations run offline: the Prisma CLI insists on
// downloading a native engine binary first, which these machines cannot reach (see README, "Migrations").
//
// Under Bun the package's ESM entry fails (`wasm.__wbindgen_start is not a function`), so we do by
// hand what that entry would do: instantiate the .wasm with the JS glue as its import object.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';

export type SchemaEngine = glue.SchemaEngine;

// The engine reports Rust panics through this global; without it a panic becomes a TypeError.
export const panicRegistry = {
  message: '',
  set_message(message: string) {
    panicRegistry.message = message;
  },
};
(globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY ??= panicRegistry;

let wasmReady: Promise<void> | undefined;

function loadWasmOnce(): Promise<void> {
  wasmReady ??= (async () => {
    const packageDir = dirname(fileURLToPath(import.meta.resolve('@prisma/schema-engine-wasm')));
    const bytes = await readFile(join(packageDir, 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, {
      './schema_engine_bg.js': glue as unknown as Bun.WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return wasmReady;
}

/**
 * An engine bound to `connectionString` (always the direct/session address: migrations hold
 * advisory locks and run DDL, neither of which belongs on a transaction pooler). The engine connects
 * as soon as it is created, even for work that needs no database.
 */
export async function openSchemaEngine(
  datamodel: string,
  connectionString: string,
): Promise<{ engine: SchemaEngine; close(): Promise<void> }> {
  await loadWasmOnce();
  // Our own pool, so the connection is really closed afterwards (the engine does not close it).
  const pool = new pg.Pool({ connectionString, max: 1 });
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool));
  const ignoreEngineLog = () => {};
  const engine = await glue.SchemaEngine.new({ datamodels: [['schema.prisma', datamodel]] }, ignoreEngineLog, adapter);
  return {
    engine,
    async close() {
      engine.free();
      await pool.end();
    },
  };
}
