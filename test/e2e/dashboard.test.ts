import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Service } from '@civic/common/service';
import { readManifest } from '@civic/gateway/dashboard/manifest';
import { DASHBOARD_POLICY } from '@civic/gateway/dashboard/page';
import { createGatewayService } from '@civic/gateway/server';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startSystem, type System } from '../support/system';

/**
 * The reference dashboard (GET /dashboard, issue 11) in a real browser: headless Chromium (Debian's `chromium`,
 * CHROMIUM_PATH to use another) loads the page from a gateway in safelist mode (PERSISTED_ONLY: the page can
 * only work through its persisted queries) over the real graph and data, in French, Arabic and English. It waits
 * for the charts, then checks that every figure the page shows (tables, key figures) is the API's answer to the
 * same persisted queries, that the sources cited are the API's, that nothing was asked of another origin, and
 * that no Content-Security-Policy violation or script error occurred. A screenshot per language is left in
 * test/artifacts/ (ignored by git) for people to look at.
 *
 * Without Chromium the browser tests are skipped, saying so; with CI=true they fail instead (CI installs it).
 */

// What runs inside the page (page.evaluate, $$eval) sees the browser's globals; this project compiles for Node,
// without the DOM's types, so they are declared here, for this file only.
declare const document: any;
declare const location: any;
type HTMLElement = any;
type HTMLSelectElement = any;
type HTMLAnchorElement = any;
type HTMLOptionElement = any;
type HTMLCanvasElement = any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const LANGS = ['fr', 'ar', 'en'] as const;
const LOCALES = { fr: 'fr', ar: 'ar-u-nu-latn', en: 'en' } as const;
const OPERATIONS = Object.fromEntries(readManifest().operations.map((o) => [o.name, o.id]));

if (!HAVE_CHROMIUM) {
  const why = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') {
    test('the dashboard is tested in Chromium', () => {
      throw new Error(`CI=true: ${why}; refusing to skip the browser tests of the dashboard.`);
    });
  } else console.warn(`\n${why}: skipping the dashboard's browser tests.\n`);
}

let system: System;
let gateway: Service;
let base: string;
let browser: Browser | undefined;

beforeAll(async () => {
  system = await startSystem('sqlite');
  // Production dashboards run in safelist mode: only persisted documents run, so the page must use them only.
  gateway = await createGatewayService({
    subgraphUrls: system.subgraphUrls,
    persisted: { only: true, apq: false },
    rateLimit: { costPerMinute: 0 },
    reportCost: false,
  });
  base = (await gateway.listen(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
  if (HAVE_CHROMIUM) {
    // launch() runs Chromium on a fresh, temporary profile (user data dir), removed when it closes.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await system?.stop();
});

/** Runs one of the dashboard's persisted queries the way the page does (GET by id), in a language. */
async function api(name: string, lang: string, variables?: Record<string, unknown>): Promise<any> {
  const url = new URL(`${base}/graphql`);
  url.searchParams.set('id', OPERATIONS[name]);
  if (variables) url.searchParams.set('variables', JSON.stringify(variables));
  const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true', 'accept-language': lang } });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  expect(res.status).toBe(200);
  return body.data;
}

/** The digits of a figure, Latin, in order: what a reader sees, whatever the separators and the currency. */
const digits = (text: string) =>
  text.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/\D/g, '');

/** A figure as the page shows it: the API's exact value (`data-value`) and the text a reader sees. */
interface Figure {
  value: string;
  text: string;
}

/** A row of a table as the page shows it: its header, the key it is about, and each `[data-kind]` figure. */
interface Row {
  head: string;
  key: { country?: string; member?: string };
  figures: Record<string, Figure>;
}

/** The figures of a table as the page shows them. */
async function tableFigures(page: Page, id: string): Promise<Row[]> {
  return page.$$eval(`#${id} tbody tr`, (rows: any[]) =>
    rows.map((row) => ({
      head: row.querySelector('th')?.textContent ?? '',
      key: (row.querySelector('[data-country],[data-member]') as HTMLElement | null)?.dataset ?? {},
      figures: Object.fromEntries(
        [...row.querySelectorAll('[data-kind]')].map((f: any) => [
          f.dataset.kind,
          { value: f.dataset.value!, text: f.textContent! },
        ]),
      ),
    })),
  );
}

/** Checks that a figure shows its value: the API's exact value, and the digits a reader sees are its digits. */
function expectFigure(shown: Figure | undefined, value: string, kind: string) {
  expect(shown?.value).toBe(value);
  if (kind === 'rate') {
    // A rate is shown as a percentage with one decimal.
    expect(digits(shown!.text)).toBe(digits((Number(value) * 100).toFixed(1)));
  } else expect(digits(shown!.text)).toBe(digits(value));
}

interface Visit {
  page: Page;
  context: BrowserContext;
  requests: { url: string; method: string }[];
  problems: string[];
}

/** Opens the page in a fresh browser context and records every request, console error and CSP violation. */
async function visit(path: string, headers: Record<string, string> = {}): Promise<Visit> {
  const context = await browser!.newContext({
    viewport: { width: 1280, height: 900 },
    extraHTTPHeaders: headers,
  });
  const page = await context.newPage();
  const requests: Visit['requests'] = [];
  const problems: string[] = [];
  // Injected by the browser's debugging protocol, not by the page: the page's own policy does not apply to it.
  await context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e: any) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    ),
  );
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method() }));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${base}${path}`);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') {
    const statuses = await page.$$eval('.status', (s) => s.map((e) => e.textContent).join(' | '));
    throw new Error(`The dashboard did not load: ${statuses}`);
  }
  return { page, context, requests, problems };
}

/** The page asked this origin only, and the API only by persisted-query id, with GET. */
function expectOnlyPersistedQueries(v: Visit) {
  expect(v.requests.filter((r) => !r.url.startsWith(`${base}/`))).toEqual([]);
  const graphql = v.requests.filter((r) => new URL(r.url).pathname === '/graphql');
  expect(graphql.length).toBeGreaterThanOrEqual(4);
  for (const r of graphql) {
    const params = new URL(r.url).searchParams;
    expect(r.method).toBe('GET');
    expect(Object.values(OPERATIONS)).toContain(params.get('id'));
    expect(params.get('query')).toBeNull();
  }
}

(HAVE_CHROMIUM ? describe : describe.skip)('the dashboard in Chromium', () => {
  describe.each(LANGS)('in %s', (lang) => {
    let v: Visit;
    beforeAll(async () => {
      v = await visit(`/dashboard?lang=${lang}`);
    });
    afterAll(async () => {
      if (v) {
        mkdirSync(ARTIFACTS, { recursive: true });
        await v.page.screenshot({ path: join(ARTIFACTS, `dashboard-${lang}.png`), fullPage: true });
        await v.context.close();
      }
    });

    it('is in its language and direction, and draws its three charts', async () => {
      const html = await v.page.evaluate(() => ({
        lang: document.documentElement.lang,
        dir: document.documentElement.dir,
        charts: [...document.querySelectorAll('canvas')].map((c) => (c as HTMLElement).dataset.chart),
      }));
      expect(html).toEqual({ lang, dir: lang === 'ar' ? 'rtl' : 'ltr', charts: ['ready', 'ready', 'ready'] });
      // Each chart drew something: its canvas is not blank.
      const inked = await v.page.$$eval('canvas', (canvases) =>
        canvases.map((c) => {
          const { data } = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, c.width, c.height);
          return data.some((value: number, i: number) => i % 4 === 3 && value > 0);
        }),
      );
      expect(inked).toEqual([true, true, true]);
    });

    it('shows the budget figures the API gives, with their sources', async () => {
      const municipalities = await api('DashboardMunicipalities', lang);
      const organizations = [...new Set(municipalities.budgets.nodes.map((b: any) => b.organization.id))];
      const options = await v.page.$$eval('#municipality option', (os) =>
        os.map((o) => (o as HTMLOptionElement).value),
      );
      expect([...options].sort()).toEqual([...organizations].sort());
      const selected = await v.page.$eval('#municipality', (s) => (s as HTMLSelectElement).value);
      const budget = await api('DashboardMunicipalityBudget', lang, {
        organizationId: selected,
        direction: 'EXPENDITURE',
      });
      const years = await tableFigures(v.page, 'table-years');
      expect(years.map((r) => r.head)).toEqual(budget.byYear.map((g: any) => g.keys[0].value));
      budget.byYear.forEach((g: any, i: number) => {
        const row = years[i].figures;
        const total = (phase: string) => g.totals.find((x: any) => x.phase === phase);
        expectFigure(row.approved, total('APPROVED').amount.amount, 'approved');
        if (total('EXECUTED')) expectFigure(row.executed, total('EXECUTED').amount.amount, 'executed');
        else expect(row.executed).toBeUndefined();
        if (g.executionRate !== null) expectFigure(row.rate, String(g.executionRate), 'rate');
        else expect(row.rate).toBeUndefined();
      });
      // Bou Arada's 2018 execution stands at a date, and the page says which.
      expect(budget.byYear.some((g: any) => g.totals.some((x: any) => x.asOf))).toBe(true);
      const asOf = await v.page.$$eval('#table-years [data-as-of]', (s) =>
        s.map((e) => (e as HTMLElement).dataset.asOf),
      );
      expect(asOf).toEqual(
        budget.byYear.flatMap((g: any) =>
          g.totals.filter((x: any) => x.phase === 'EXECUTED' && x.asOf).map((x: any) => x.asOf),
        ),
      );

      // By Titre, for the year the page chose: the latest with executed amounts.
      const year = await v.page.$eval('#year', (s) => (s as HTMLSelectElement).value);
      const withExecution = budget.byYear.filter((g: any) =>
        g.totals.some((x: any) => x.phase === 'EXECUTED'),
      );
      expect(year).toBe(withExecution.at(-1).keys[0].value);
      const titres = budget.byTitre.filter((g: any) => g.keys[0].value === year);
      expect(titres.length).toBeGreaterThan(0);
      const shown = await tableFigures(v.page, 'table-titres');
      expect(shown).toHaveLength(titres.length);
      titres.forEach((g: any, i: number) => {
        const total = (phase: string) => g.totals.find((x: any) => x.phase === phase);
        expectFigure(shown[i].figures.approved, total('APPROVED').amount.amount, 'approved');
        if (total('EXECUTED'))
          expectFigure(shown[i].figures.executed, total('EXECUTED').amount.amount, 'executed');
        if (g.executionRate !== null) expectFigure(shown[i].figures.rate, String(g.executionRate), 'rate');
      });
      // The year's key figures are the year's totals.
      const kpis = await v.page.$$eval('#kpis [data-kind]', (dd) =>
        Object.fromEntries(
          dd.map((d) => [
            (d as HTMLElement).dataset.kind,
            { value: (d as HTMLElement).dataset.value!, text: d.textContent! },
          ]),
        ),
      );
      const yearGroup = budget.byYear.find((g: any) => g.keys[0].value === year);
      expectFigure(
        kpis.approved,
        yearGroup.totals.find((x: any) => x.phase === 'APPROVED').amount.amount,
        'approved',
      );
      expectFigure(
        kpis.executed,
        yearGroup.totals.find((x: any) => x.phase === 'EXECUTED').amount.amount,
        'executed',
      );
      expectFigure(kpis.rate, String(yearGroup.executionRate), 'rate');

      // Dinars, with the millimes: TND has 3 decimals, and the page's text carries them all.
      const approvedText = years[0].figures.approved.text;
      const currency = budget.byYear[0].currency;
      expect(approvedText).toBe(
        new Intl.NumberFormat(LOCALES[lang], { style: 'currency', currency }).format(
          Number(years[0].figures.approved.value),
        ),
      );

      const sources = await v.page.$$eval('#budget-sources a', (as) =>
        as.map((a) => (a as HTMLAnchorElement).href),
      );
      expect(sources).toEqual([...new Set(budget.budgets.nodes.map((b: any) => b.source.url))]);
    });

    it('shows the commitments by country and completion level that the API counts', async () => {
      const { byCountry } = await api('DashboardCommitmentsByCountry', lang);
      const expected = new Map<string, Record<string, number>>();
      for (const g of byCountry) {
        const counts = expected.get(g.keys[0].value) ?? {};
        counts[`completion:${g.keys[1].value}`] = g.count;
        counts.total = (counts.total ?? 0) + g.count;
        expected.set(g.keys[0].value, counts);
      }
      const rows = await tableFigures(v.page, 'table-commitments');
      expect(rows.map((r) => r.key.country).sort()).toEqual([...expected.keys()].sort());
      for (const row of rows) {
        const counts = expected.get(row.key.country!)!;
        for (const [kind, figure] of Object.entries(row.figures)) {
          expect(figure.value).toBe(String(counts[kind] ?? 0));
          expect(digits(figure.text)).toBe(String(counts[kind] ?? 0));
        }
        expect(Object.keys(counts).every((k) => k in row.figures)).toBe(true);
      }
      // Country names are the API's, in the page's language.
      const labels = new Map(byCountry.map((g: any) => [g.keys[0].value, g.keys[0].label]));
      for (const row of rows) expect(row.head).toBe(labels.get(row.key.country!));
      const total = byCountry.reduce((n: number, g: any) => n + g.count, 0);
      const kpi = await v.page.$eval('#commitment-kpis [data-kind]', (d) => (d as HTMLElement).dataset.value);
      expect(kpi).toBe(String(total));
    });

    it('lists the OGP Local members with their commitments, citing the sources', async () => {
      const members = (await api('DashboardOgpMembers', lang)).organizations;
      expect(members.pageInfo.hasNextPage).toBe(false);
      const local = members.nodes.filter((m: any) => m.ogpMembership.type === 'LOCAL');
      expect(local.map((m: any) => m.id)).toEqual(
        expect.arrayContaining(['ma-region-01', 'tn-municipality-33011']),
      );
      const { byMember } = await api('DashboardCommitmentsByCountry', lang);
      const rows = await tableFigures(v.page, 'table-members');
      expect(rows.map((r) => r.key.member).sort()).toEqual(local.map((m: any) => m.id).sort());
      for (const row of rows) {
        const member = local.find((m: any) => m.id === row.key.member);
        expect(row.head).toBe(member.name);
        const count = byMember.find((g: any) => g.keys[0].value === member.id)?.count ?? 0;
        expectFigure(row.figures.count, String(count), 'count');
      }
      const cited = await v.page.$$eval('#member-sources a', (as) =>
        as.map((a) => (a as HTMLAnchorElement).href),
      );
      const urls = local.flatMap((m: any) => [m.source.url, ...m.actionPlans.map((p: any) => p.source.url)]);
      expect(new Set(cited)).toEqual(new Set(urls.filter(Boolean)));
      // The commitments' sources are the datasets of the members' action plans.
      const commitmentSources = await v.page.$$eval('#commitment-sources a', (as) =>
        as.map((a) => (a as HTMLAnchorElement).href),
      );
      const planUrls = members.nodes.flatMap((m: any) => m.actionPlans.map((p: any) => p.source.url));
      expect(new Set(commitmentSources)).toEqual(new Set(planUrls.filter(Boolean)));
    });

    it('asked nothing of another origin, used persisted queries only, and broke no policy', () => {
      expectOnlyPersistedQueries(v);
      expect(v.problems).toEqual([]);
    });
  });

  it('follows the reader: Accept-Language picks the language, and the selectors reload the figures', async () => {
    const v = await visit('/dashboard', { 'accept-language': 'ar-TN,ar;q=0.9,fr;q=0.5' });
    try {
      expect(
        await v.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]),
      ).toEqual(['ar', 'rtl']);
      await v.page.click('input[name="direction"][value="REVENUE"]', { force: true });
      await v.page.waitForFunction(() => new URLSearchParams(location.search).get('direction') === 'REVENUE');
      await v.page.waitForFunction(() => document.body.dataset.state === 'ready');
      const selected = await v.page.$eval('#municipality', (s) => (s as HTMLSelectElement).value);
      const budget = await api('DashboardMunicipalityBudget', 'ar', {
        organizationId: selected,
        direction: 'REVENUE',
      });
      const years = await tableFigures(v.page, 'table-years');
      expect(years.map((r) => r.figures.approved.value)).toEqual(
        budget.byYear.map((g: any) => g.totals.find((x: any) => x.phase === 'APPROVED').amount.amount),
      );
      // The language links keep what is shown, so a reader can share it in another language.
      const english = await v.page.$eval('a[data-lang="en"]', (a) => a.getAttribute('href'));
      expect(new URLSearchParams(english!).get('direction')).toBe('REVENUE');
      expectOnlyPersistedQueries(v);
      expect(v.problems).toEqual([]);
    } finally {
      await v.context.close();
    }
  });
});

describe('GET /dashboard and its files', () => {
  it('serves the page with its own policy: scripts and styles from this origin only, no inline code', async () => {
    const res = await fetch(`${base}/dashboard?lang=en`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_POLICY);
    expect(DASHBOARD_POLICY).toContain("script-src 'self';");
    expect(DASHBOARD_POLICY).not.toContain('unsafe');
    expect(res.headers.get('vary')).toMatch(/accept-language/i);
    const html = await res.text();
    // No executable inline script: every <script> has a src, or is a JSON data block.
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.every((attrs) => /\ssrc=/.test(attrs) || /type="application\/json"/.test(attrs))).toBe(
      true,
    );
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves Chart.js and its own files compressed, with integrity and a year of cache', async () => {
    const html = await (await fetch(`${base}/dashboard?lang=fr`)).text();
    const files = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)" integrity="([^"]+)"/g)];
    expect(files.map((f) => f[1].replace(/\.[0-9a-f]{16}\./, '.'))).toEqual([
      '/dashboard/assets/dashboard.css',
      '/dashboard/assets/chart.umd.js',
      '/dashboard/assets/dashboard.js',
    ]);
    for (const [, path, integrity] of files) {
      const res = await fetch(`${base}${path}`, { headers: { 'accept-encoding': 'br' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBe('br');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // fetch decompresses: the bytes are the file the integrity attribute names.
      const body = Buffer.from(await res.arrayBuffer());
      const { createHash } = await import('node:crypto');
      expect(`sha384-${createHash('sha384').update(body).digest('base64')}`).toBe(integrity);
    }
    expect((await fetch(`${base}/dashboard/assets/nothing.js`)).status).toBe(404);
  });

  it('picks the language from ?lang=, else Accept-Language, else French', async () => {
    const langOf = async (path: string, headers: Record<string, string> = {}) => {
      const html = await (await fetch(`${base}${path}`, { headers })).text();
      return /<html lang="(\w+)" dir="(\w+)">/.exec(html)!.slice(1);
    };
    expect(await langOf('/dashboard')).toEqual(['fr', 'ltr']);
    expect(await langOf('/dashboard', { 'accept-language': 'en-GB,en;q=0.8' })).toEqual(['en', 'ltr']);
    expect(await langOf('/dashboard', { 'accept-language': 'ar-MA' })).toEqual(['ar', 'rtl']);
    expect(await langOf('/dashboard?lang=ar', { 'accept-language': 'en' })).toEqual(['ar', 'rtl']);
    expect(await langOf('/dashboard?lang=xx', { 'accept-language': 'de' })).toEqual(['fr', 'ltr']);
  });
});
