/**
 * The HTML page in a real browser: Debian's Chromium, headless, driven by puppeteer-core, loads the
 * problems a `node:http` server renders for real failures (a refused fetch, a 503 with a Retry-After),
 * in production and in development. The page must be styled under its own strict policy, say when to
 * try again, show the request ID and, in development, wrap its details on a phone's width.
 *
 * The screenshots under docs/screenshots are written when they are missing, or with
 * `UPDATE_SCREENSHOTS=1`; otherwise a run leaves the tree as it was.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { refusedPort } from '@gateway-errors/fault-servers';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import type { Conventions } from './conventions.js';
import { ServiceUnavailableError } from './errors.js';
import { writeProblem } from './node-response.js';
import { renderProblem } from './render.js';
import { HTML_CSP } from './serialize.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const UPDATE = process.env['UPDATE_SCREENSHOTS'] === '1';
const DESKTOP = { width: 1000, height: 700 };
const PHONE = { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

type Mode = 'production' | 'development';

const CONVENTIONS: Readonly<Record<Mode, Conventions>> = {
  production: defineConventions({ mode: 'production', onError: false }),
  development: defineConventions({ mode: 'development', onError: false }),
};

/** The failures the pages are made of, each made for real on every request. */
const FAILURES: Readonly<Record<string, (refusedPort: number) => Promise<unknown>>> = {
  // fetch to a port nobody listens on: TypeError('fetch failed') caused by ECONNREFUSED.
  '502': (refusedPort) =>
    fetch(`http://127.0.0.1:${refusedPort}/orders/7`, { signal: AbortSignal.timeout(5_000) }).then(
      () => new Error('the closed port answered'),
      (error: unknown) => error,
    ),
  '503': () => Promise.resolve(new ServiceUnavailableError({ retryAfter: 30 })),
};

/** What Chromium shows a page without any style of its own: the baseline the problem page must differ from. */
const UNSTYLED = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>unstyled</title></head><body><main>unstyled</main></body></html>';

interface Seen {
  readonly violations: string[];
  readonly console: string[];
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Collects every CSP violation and console message of the page, from before its first byte. */
async function watch(page: Page): Promise<Seen> {
  const seen: Seen = { violations: [], console: [] };
  page.on('console', (message) => {
    // Chromium reports the document's own error status; that is the point of the page, not a fault in it.
    const own = message.location().url === page.url() && message.text().startsWith('Failed to load resource: the server responded with a status of');
    if (!own) seen.console.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => seen.console.push(`pageerror: ${String(error)}`));
  await page.exposeFunction('reportViolation', (text: string) => seen.violations.push(text));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as unknown as { reportViolation(text: string): void }).reportViolation(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return seen;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = `${SCREENSHOTS}${name}.png`;
  if (!UPDATE && existsSync(file)) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await writeFile(file, await page.screenshot({ fullPage: true, type: 'png' }));
}

const MISSING = `skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

// CI installs Chromium: there a missing browser is a failure, not a skip.
it.runIf(process.env['CI'] === 'true')('has Chromium to open the pages in', () => {
  expect(existsSync(CHROMIUM), MISSING).toBe(true);
});

describe.skipIf(!existsSync(CHROMIUM))(`the HTML page in headless Chromium${existsSync(CHROMIUM) ? '' : ` (${MISSING})`}`, () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let origin = '';
  let unstyled = { fontFamily: '', maxWidth: '' };

  beforeAll(async () => {
    const closed = await refusedPort();
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const [, mode, status] = (req.url ?? '/').split('/');
      const failure = FAILURES[status ?? ''];
      if (mode === 'unstyled') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(UNSTYLED);
      } else if ((mode === 'production' || mode === 'development') && failure !== undefined) {
        void failure(closed).then((error) => {
          writeProblem(res, renderProblem(error, { method: req.method, url: req.url, headers: req.headers }, CONVENTIONS[mode]));
        });
      } else {
        res.writeHead(404).end();
      }
    });
    origin = `http://127.0.0.1:${await listen(server)}`;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      timeout: 20_000,
      protocolTimeout: 20_000,
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/unstyled`, { timeout: 10_000 });
      unstyled = await page.evaluate(() => ({
        fontFamily: getComputedStyle(document.body).fontFamily,
        maxWidth: getComputedStyle(document.querySelector('main')!).maxWidth,
      }));
    } finally {
      await page.close();
    }
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    if (server !== undefined) await close(server);
  }, 20_000);

  it.each([
    ['502', 'production'],
    ['503', 'production'],
    ['502', 'development'],
    ['503', 'development'],
  ] as const)('a %s in %s: styled under its policy, readable, and on a phone without overflow', async (status, mode) => {
    const page = await browser!.newPage();
    try {
      page.setDefaultTimeout(10_000);
      const seen = await watch(page);
      await page.setViewport(DESKTOP);
      const response = await page.goto(`${origin}/${mode}/${status}`, { waitUntil: 'load' });
      expect(response?.status()).toBe(Number(status));
      const headers = response?.headers() ?? {};
      expect(headers['content-type']).toBe('text/html; charset=utf-8');
      expect(headers['content-security-policy']).toBe(HTML_CSP);
      const requestId = headers['x-request-id'] ?? '';
      expect(requestId).not.toBe('');

      const page1 = await page.evaluate(() => {
        const body = getComputedStyle(document.body);
        const id = document.querySelector('code.id');
        const box = id?.getBoundingClientRect();
        return {
          text: document.body.innerText,
          fontFamily: body.fontFamily,
          maxWidth: getComputedStyle(document.querySelector('main')!).maxWidth,
          idText: id?.textContent ?? '',
          idShown: box !== undefined && box.width > 0 && box.height > 0,
          wraps: Array.from(document.querySelectorAll('pre')).every((pre) => getComputedStyle(pre).whiteSpace === 'pre-wrap'),
        };
      });
      // The style sheet applied: nothing the policy blocked, and not Chromium's defaults.
      expect(seen.violations).toEqual([]);
      expect(seen.console).toEqual([]);
      expect(page1.fontFamily).not.toBe(unstyled.fontFamily);
      expect(page1.fontFamily).toContain('system-ui');
      expect(page1.maxWidth).not.toBe(unstyled.maxWidth);

      expect(page1.text).toContain(`${status}\n`);
      expect(page1.text).toContain(status === '502' ? 'Upstream Unreachable' : 'Upstream Unavailable');
      expect(page1.text).toContain(`Request ID: ${requestId}`);
      expect(page1.idText).toBe(requestId);
      expect(page1.idShown).toBe(true);
      expect(page1.text).toContain(status === '503' ? 'Try again in 30 seconds.' : 'Try again in a few moments.');
      expect(page1.wraps).toBe(true);
      if (mode === 'production') {
        expect(page1.text).not.toMatch(/^details$/im);
        for (const hidden of ['ECONNREFUSED', 'fetch failed', '127.0.0.1', 'ServiceUnavailableError', ' at ', '.ts:']) {
          expect(page1.text).not.toContain(hidden);
        }
      } else {
        expect(page1.text).toMatch(/^details$/im);
        expect(page1.text).toContain(status === '502' ? 'ECONNREFUSED' : 'ServiceUnavailableError');
        expect(page1.text).toMatch(/\bat /);
      }
      await screenshot(page, `html-${status}-${mode}`);

      await page.setViewport(PHONE);
      const phone = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      expect(phone.innerWidth).toBe(PHONE.width);
      expect(phone.scrollWidth).toBeLessThanOrEqual(phone.innerWidth);
      if (status === '502' && mode === 'development') {
        await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
        await screenshot(page, `html-${status}-${mode}-phone-dark`);
      }
      expect(seen.violations).toEqual([]);
    } finally {
      await page.close();
    }
  }, 30_000);
});
