import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const MODULE = join(__dirname, '../../src/shared/startup-tiering.js');
const OPTIMIZED = 16; // %GetOptimizationStatus: the function runs optimized code

/**
 * In a Node started as config.json starts the plugin: how many calls a function that turns hot after the
 * start takes to be optimized, with or without endStartupTiering called first. Optimized on the main
 * thread (no concurrent recompilation): the count is then when V8 decides to optimize, not how soon a
 * background compile finishes on a loaded machine.
 */
function callsUntilOptimized(callEnd: boolean): number {
  const script = `
    const { endStartupTiering } = require(${JSON.stringify(MODULE)});
    if (${callEnd}) endStartupTiering();
    function hot(values) { let sum = 0; for (const value of values) sum += value * 3 + (value >> 1); return sum; }
    const values = Array.from({ length: 200 }, (_, index) => index);
    let calls = 0;
    const round = () => {
      for (let call = 0; call < 10; call++) hot(values);
      calls += 10;
      if (%GetOptimizationStatus(hot) & ${OPTIMIZED} || calls >= 1e6) return console.log(calls);
      setImmediate(round);
    };
    round();`;
  const output = execFileSync(process.execPath, ['--interrupt-budget=4325376', '--allow-natives-syntax', '--no-concurrent-recompilation', '-e', script], { encoding: 'utf8' });
  return Number(output.trim());
}

describe('startup tiering', () => {
  it("gives V8's own budget back once the plugin has started: hot code is optimized many times sooner", () => {
    const heldBack = callsUntilOptimized(false);
    const restored = callsUntilOptimized(true);
    assert.ok(restored * 3 <= heldBack, `optimized after ${restored} calls with V8's budget, ${heldBack} with the entrypoint's`);
  });
});
