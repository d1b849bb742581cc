// Debian's Chromium driven by playwright-core, with a fresh profile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** The two widths the tests look at the client with: a desktop window and a phone. */
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Whether the page scrolls sideways: a layout wider than the window (on a phone, a bug). */
export function scrollsSideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/**
 * Full-page screenshots of `page` at desktop and at phone width, `${file}-desktop.png` and
 * `${file}-phone.png` (`file` a path without the extension), asserting that the phone layout
 * does not scroll sideways; the page is left at desktop width.
 */
export async function screenshotsAtBothWidths(page, file) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: `${file}-desktop.png`, fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: `${file}-phone.png`, fullPage: true });
  assert.equal(await scrollsSideways(page), false, `${path.basename(file)}: no horizontal scrolling on a phone`);
  await page.setViewportSize(DESKTOP);
}

export async function launchBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-share-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A test picture drawn on a canvas in the page: returns a Buffer of the encoded image. */
export async function makeImage(page, { width, height, hue, type = 'image/png', label = '' }) {
  const dataUrl = await page.evaluate(({ width, height, hue, type, label }) => {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, width, height);
    grad.addColorStop(0, `hsl(${hue} 80% 60%)`);
    grad.addColorStop(1, `hsl(${(hue + 120) % 360} 70% 35%)`);
    g.fillStyle = grad;
    g.fillRect(0, 0, width, height);
    for (let i = 0; i < 12; i++) {
      g.fillStyle = `hsl(${(hue + i * 30) % 360} 90% ${40 + (i % 3) * 15}% / .7)`;
      g.beginPath();
      g.arc(((i * 97) % width), ((i * 53) % height), 20 + ((i * 37) % 80), 0, Math.PI * 2);
      g.fill();
    }
    g.fillStyle = '#fff';
    g.font = `bold ${Math.round(height / 8)}px sans-serif`;
    g.fillText(label, width / 10, height / 2);
    return c.toDataURL(type, 0.9);
  }, { width, height, hue, type, label });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}
