// Chromium's decode time of preview files: each file is loaded as a Blob in a blank page and
// decoded with createImageBitmap (a full decode to pixels, off the network), 15 times; the
// median per file and the sum of medians per kind (the file name after its first dot, e.g.
// "preview.jpg", "fmt.webp") are printed.
// Usage: node bench/preview-decode.mjs FILE...   (playwright-core from client/node_modules)
import fs from 'node:fs';
import path from 'node:path';

const { launchBrowser } = await import(new URL('../client/e2e/browser.mjs', import.meta.url));

const files = process.argv.slice(2);
const browser = await launchBrowser();
const page = browser.context.pages()[0] ?? (await browser.context.newPage());
const totals = {};
for (const file of files) {
  const type = file.endsWith('.webp') ? 'image/webp' : 'image/jpeg';
  const base64 = fs.readFileSync(file).toString('base64');
  const median = await page.evaluate(async ({ base64, type }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const blob = new Blob([bytes], { type });
    const times = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      const bitmap = await createImageBitmap(blob);
      times.push(performance.now() - started);
      bitmap.close();
    }
    times.sort((a, b) => a - b);
    return times[7];
  }, { base64, type });
  const kind = path.basename(file).split('.').slice(1).join('.');
  totals[kind] = (totals[kind] ?? 0) + median;
  console.log(`  ${path.basename(file)}: ${median.toFixed(1)} ms`);
}
for (const [kind, total] of Object.entries(totals)) console.log(`Chromium decode, ${kind}: ${total.toFixed(1)} ms for all (sum of medians)`);
await browser.close();
