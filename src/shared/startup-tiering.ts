import { setFlagsFromString } from 'node:v8';

/**
 * The plugin process starts with V8's optimizing compiler held back (`--interrupt-budget` in the entrypoint
 * of config.json, 64 times V8's own): loading some 330 modules makes the module loader's functions hot,
 * and optimizing code that runs once at startup maps ~4 MiB more of the node binary and ~2 MiB of heap,
 * which an idle plugin then keeps. Once it has started, V8's own budget applies again, so the code that
 * runs backups (and its workers) is optimized as soon as ever.
 */
export function endStartupTiering(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((flag) => flag.startsWith('--interrupt-budget'))) setFlagsFromString(`--interrupt-budget=${V8_INTERRUPT_BUDGET}`);
}

/** V8's default in the Node.js the plugin image carries (20): `node --v8-options` lists it. */
const V8_INTERRUPT_BUDGET = 66 * 1024;
