// Checks and keyboard steps the browser suites share: axe-core on the page,
// and a labelled field typed into and submitted with Enter.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core in the page: no serious or critical violation. */
export async function accessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const found = await page.evaluate(async () => {
    const w = window as unknown as {
      axe: {
        run(
          ctx: Document,
          o: object,
        ): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }>;
      };
    };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(found, [], `${what}: axe-core violations`);
}

/** Types into a labelled field and presses Enter: the form submits from the keyboard. */
export async function typeAndEnter(page: Page, label: string, text: string): Promise<void> {
  const f = page.getByLabel(label, { exact: true });
  await f.focus();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}
