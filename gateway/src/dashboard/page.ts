import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Express, Request, Response } from 'express';
import Negotiator from 'negotiator';
import {
  DASHBOARD_LANGUAGES,
  LANGUAGE_SETTINGS,
  STRINGS,
  type DashboardLanguage,
  type StringKey,
} from './i18n';
import { operationIds, readManifest, type PersistedQueryManifest } from './manifest';

// Every language has every text (a missing one fails the type check, not the page).
const _complete: Readonly<Record<DashboardLanguage, Readonly<Record<StringKey, string>>>> = STRINGS;
void _complete;

/** Where the page is served, and its files. */
export const DASHBOARD_PATH = '/dashboard';
const ASSETS_PATH = `${DASHBOARD_PATH}/assets`;

/**
 * The dashboard page's Content-Security-Policy: scripts and styles only from this origin's files (the page's
 * own and Chart.js, no inline code, no eval), requests only to this origin (the persisted queries at
 * /graphql), no plugin, frame, form or base URL. The data block holding the page's settings is JSON, which no
 * browser executes (a `<script type="application/json">` is not subject to script-src).
 */
export const DASHBOARD_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * A body held in memory with its compressed forms (the gateway has no compression middleware, and these never
 * change): Chart.js is 208 KB as shipped, 72 KB gzipped, 61 KB with brotli; a page 8 KB, 3 KB gzipped. Each form
 * is made on its first request, once: brotli at its best quality takes about a second of CPU for Chart.js,
 * which a gateway that never serves the dashboard (or a test) should not pay at start.
 */
class Compressed {
  private gzipped?: Buffer;
  private brotli?: Buffer;

  constructor(readonly identity: Buffer) {}

  get gzip(): Buffer {
    return (this.gzipped ??= gzipSync(this.identity, { level: 9 }));
  }

  get br(): Buffer {
    return (this.brotli ??= brotliCompressSync(this.identity, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: this.identity.length },
    }));
  }
}

/** Sends the best form the client accepts (browsers ask for brotli over HTTPS only, gzip always). */
function sendCompressed(req: Request, res: Response, body: Compressed): void {
  const encoding = new Negotiator(req).encoding(['br', 'gzip', 'identity']);
  res.vary('Accept-Encoding');
  if (encoding === 'br' || encoding === 'gzip') res.setHeader('content-encoding', encoding);
  res.send(encoding === 'br' ? body.br : encoding === 'gzip' ? body.gzip : body.identity);
}

/** A static file of the page, named by its content's hash. */
interface Asset {
  /** The URL path, with a hash of the content in the name: it never changes, so it is cached for a year. */
  path: string;
  type: string;
  /** Subresource Integrity of the file (`sha384-...`). */
  integrity: string;
  body: Compressed;
}

/**
 * The files are read once per process and shared by every gateway it builds (tests build many): they are part
 * of the code, never changed while it runs.
 */
const assetCache = new Map<string, Asset>();

function asset(file: string, name: string, type: string): Asset {
  const cached = assetCache.get(file);
  if (cached) return cached;
  const identity = readFileSync(file);
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  const [base, ext] = [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.'))];
  const made: Asset = {
    path: `${ASSETS_PATH}/${base}.${hash}${ext}`,
    type,
    integrity: `sha384-${createHash('sha384').update(identity).digest('base64')}`,
    body: new Compressed(identity),
  };
  assetCache.set(file, made);
  return made;
}

/** Chart.js's UMD build, as its package ships it (the package exports only its module entry points). */
const CHART_JS = join(dirname(require.resolve('chart.js')), 'chart.umd.js');

/** What the page needs of the gateway. */
export interface DashboardOptions {
  /** The persisted-query manifest whose ids the page sends; default the checked-in one (dashboard.json). */
  manifest?: PersistedQueryManifest;
  /** Where the page sends its queries; default `/graphql`. */
  graphqlPath?: string;
}

/**
 * Mounts the reference dashboard: `GET /dashboard` (in French, Arabic or English: `?lang=`, else the
 * Accept-Language header) and its files under `/dashboard/assets/`. The page is HTML and two static scripts;
 * every figure it shows is fetched by the browser from the public API, by persisted-query id only
 * (`GET /graphql?id=...`), with the operations of gateway/src/dashboard/queries.graphql.
 */
export function mountDashboard(app: Express, opts: DashboardOptions = {}): void {
  const ids = operationIds(opts.manifest ?? readManifest());
  const assets = {
    chart: asset(CHART_JS, 'chart.umd.js', 'text/javascript; charset=utf-8'),
    script: asset(join(__dirname, 'dashboard.js'), 'dashboard.js', 'text/javascript; charset=utf-8'),
    style: asset(join(__dirname, 'dashboard.css'), 'dashboard.css', 'text/css; charset=utf-8'),
  };
  const byPath = new Map(Object.values(assets).map((a) => [a.path, a]));
  const graphqlPath = opts.graphqlPath ?? '/graphql';
  // One page per language, rendered once (the query string's other parameters are read by the page's script).
  const pages = new Map(
    DASHBOARD_LANGUAGES.map((lang) => [
      lang,
      new Compressed(Buffer.from(renderDashboard({ lang, ids, graphqlPath, assets }), 'utf8')),
    ]),
  );

  app.get(DASHBOARD_PATH, (req: Request, res: Response) => {
    const lang = dashboardLanguage(req);
    res.setHeader('content-security-policy', DASHBOARD_POLICY);
    // The language follows Accept-Language when `?lang=` is absent; the page is small and names hashed files,
    // so it is revalidated (ETag) rather than cached, and a new deployment is seen at once.
    res.vary('Accept-Language');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('content-language', lang);
    res.type('html');
    sendCompressed(req, res, pages.get(lang)!);
  });

  app.get(`${ASSETS_PATH}/:file`, (req: Request, res: Response) => {
    const file = byPath.get(req.path);
    if (!file) return void res.status(404).type('text').send('No such dashboard file');
    res.setHeader('content-type', file.type);
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    sendCompressed(req, res, file.body);
  });
}

/** The page's language: `?lang=` when it is one of the page's, else the best of Accept-Language, else French. */
export function dashboardLanguage(req: Request): DashboardLanguage {
  const asked = typeof req.query.lang === 'string' ? req.query.lang.toLowerCase() : undefined;
  if (asked && (DASHBOARD_LANGUAGES as readonly string[]).includes(asked)) return asked as DashboardLanguage;
  const accepted = req.get('accept-language');
  if (!accepted) return DASHBOARD_LANGUAGES[0];
  const best = new Negotiator({ headers: { 'accept-language': accepted } }).language([
    ...DASHBOARD_LANGUAGES,
  ]);
  return (best as DashboardLanguage | undefined) ?? DASHBOARD_LANGUAGES[0];
}

interface PageInput {
  lang: DashboardLanguage;
  ids: Record<string, string>;
  graphqlPath: string;
  assets: Record<'chart' | 'script' | 'style', Asset>;
}

/** The page: its texts in one language, empty sections the script fills, and its settings as a JSON block. */
export function renderDashboard({ lang, ids, graphqlPath, assets }: PageInput): string {
  const s = STRINGS[lang] as Readonly<Record<StringKey, string>>;
  const settings = LANGUAGE_SETTINGS[lang];
  const config = {
    lang,
    locale: settings.locale,
    dir: settings.dir,
    graphql: graphqlPath,
    operations: ids,
    strings: s,
  };
  const h = (key: StringKey) => escapeHtml(s[key]);
  const switcher = DASHBOARD_LANGUAGES.map((l) => {
    const current = l === lang ? ' aria-current="true"' : '';
    const name = escapeHtml(LANGUAGE_SETTINGS[l].name);
    return `<li><a href="?lang=${l}" hreflang="${l}" lang="${l}" data-lang="${l}"${current}>${name}</a></li>`;
  }).join('');
  const table = (id: string) =>
    `<div class="table-wrap"><table id="${id}" class="data"><caption class="visually-hidden"></caption></table></div>`;
  return `<!doctype html>
<html lang="${lang}" dir="${settings.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${h('title')} · ${h('brand')}</title>
<link rel="stylesheet" href="${assets.style.path}" integrity="${assets.style.integrity}">
<script type="application/json" id="dashboard-config">${jsonForHtml(config)}</script>
<script id="chartjs" src="${assets.chart.path}" integrity="${assets.chart.integrity}" defer></script>
<script src="${assets.script.path}" integrity="${assets.script.integrity}" async></script>
</head>
<body data-state="loading">
<header class="masthead">
  <div class="wrap masthead-inner">
    <div>
      <p class="brand">${h('brand')}</p>
      <h1>${h('title')}</h1>
      <p class="tagline">${h('tagline')}</p>
    </div>
    <nav aria-label="${h('language')}"><ul class="languages">${switcher}</ul></nav>
  </div>
</header>
<main class="wrap">
  <section id="budget" class="card" aria-labelledby="budget-title" data-state="loading">
    <div class="card-head">
      <h2 id="budget-title">${h('municipalBudget')}</h2>
      <div class="controls">
        <label>${h('municipality')} <select id="municipality" disabled><option>${h('loading')}</option></select></label>
        <fieldset class="segmented" id="direction">
          <legend class="visually-hidden">${h('direction')}</legend>
          <label><input type="radio" name="direction" value="EXPENDITURE" checked> <span>${h('EXPENDITURE')}</span></label>
          <label><input type="radio" name="direction" value="REVENUE"> <span>${h('REVENUE')}</span></label>
        </fieldset>
      </div>
    </div>
    <div class="status" role="status" aria-live="polite">${h('loading')}</div>
    <div class="grid-2">
      <figure class="chart-block">
        <div class="subhead"><h3 id="years-title">${h('budgetByYear')}</h3></div>
        <p class="note">${h('budgetByYearNote')}</p>
        <div class="chart"><canvas id="chart-years" role="img" aria-labelledby="years-title"></canvas></div>
        ${table('table-years')}
      </figure>
      <figure class="chart-block" id="titre-block">
        <div class="subhead">
          <h3 id="titre-title">${h('byTitre')}</h3>
          <label>${h('fiscalYear')} <select id="year" disabled></select></label>
        </div>
        <p class="note">${h('byTitreNote')}</p>
        <dl class="kpis" id="kpis"></dl>
        <div class="chart chart-short"><canvas id="chart-titres" role="img" aria-labelledby="titre-title"></canvas></div>
        ${table('table-titres')}
      </figure>
    </div>
    <p class="sources" id="budget-sources"></p>
  </section>
  <section id="commitments" class="card" aria-labelledby="commitments-title" data-state="loading">
    <div class="card-head"><h2 id="commitments-title">${h('commitments')}</h2></div>
    <p class="note" id="commitments-note"></p>
    <div class="status" role="status" aria-live="polite">${h('loading')}</div>
    <dl class="kpis compact" id="commitment-kpis"></dl>
    <div class="chart chart-tall"><canvas id="chart-commitments" role="img" aria-labelledby="commitments-title"></canvas></div>
    <details><summary>${h('showTable')}</summary>${table('table-commitments')}</details>
    <p class="sources" id="commitment-sources"></p>
  </section>
  <section id="members" class="card" aria-labelledby="members-title" data-state="loading">
    <div class="card-head"><h2 id="members-title">${h('members')}</h2></div>
    <p class="note">${h('membersNote')}</p>
    <div class="status" role="status" aria-live="polite">${h('loading')}</div>
    ${table('table-members')}
    <p class="sources" id="member-sources"></p>
  </section>
</main>
<footer class="wrap footer">
  <p>${h('footerApi')} <a href="/">${h('explorer')}</a></p>
</footer>
</body>
</html>
`;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** JSON safe inside a `<script>` element: no `<` (so no `</script>` or `<!--`), and no U+2028/2029. */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
