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
 * An engine that never connects: enough for `diff` between two schema files. The engine insists on
 * an adapter, so it gets one for an address that is never dialled (connections open lazily).
 */
export async function openOfflineSchemaEngine(datamodel: string): Promise<SchemaEngine> {
  return openSchemaEngine(datamodel, 'postgresql://offline.invalid:5432/never-connected');
}

/**
 * An engine bound to `connectionString` (always the direct/session address: migrations hold
 * advisory locks and run DDL, neither of which belongs on a transaction pooler).
 */
export async function openSchemaEngine(datamodel: string, connectionString: string): Promise<SchemaEngine> {
  await loadWasmOnce();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString, max: 1 }));
  const ignoreEngineLog = () => {};
  return glue.SchemaEngine.new({ datamodels: [['schema.prisma', datamodel]] }, ignoreEngineLog, adapter);
}
