// @ts-check
// The reference dashboard's script (GET /dashboard): no framework, no build step. Every figure comes from the
// public API, by persisted-query id only (GET /graphql?id=<sha256>&variables=...): the operations are those of
// gateway/src/dashboard/queries.graphql, their ids are in the page's settings. Requests leave as soon as this
// script runs; Chart.js (loaded after it) is only needed to draw, once the document has loaded.
// Amounts are exact decimal strings (TND has 3 decimals: millimes) and are formatted from the string, never
// through a float; only the charts' bar lengths use floats.
'use strict';
(() => {
  /** @type {{lang: string, locale: string, dir: 'ltr'|'rtl', graphql: string, operations: Record<string,string>, strings: Record<string,string>}} */
  const config = JSON.parse(
    /** @type {HTMLElement} */ (document.getElementById('dashboard-config')).textContent || '{}',
  );
  const { lang, locale, dir, strings } = config;
  const rtl = dir === 'rtl';
  /** How many countries the commitments chart shows (the table has them all). */
  const TOP_COUNTRIES = 15;
  const MAX_PAGES = 20;
  const COMPLETION_LEVELS = [
    'NOT_STARTED',
    'LIMITED',
    'SUBSTANTIAL',
    'COMPLETE',
    'WITHDRAWN',
    'UNCLEAR',
    null,
  ];
  const COMPLETION_COLORS = ['#c9d6e3', '#8fb3d3', '#3f7fb5', '#174a7c', '#b5651d', '#8c8c8c', '#e6e6e6'];
  const APPROVED_COLOR = '#9bb4cc';
  const EXECUTED_COLOR = '#1d5c8a';

  // This script is async: it may run before the page is parsed, and before Chart.js (deferred) has run. It sends
  // its requests at once, then touches the page once it is parsed and draws once Chart.js is there.
  const documentLoaded = new Promise((resolve) => {
    if (document.readyState === 'loading')
      document.addEventListener('DOMContentLoaded', resolve, { once: true });
    else resolve(undefined);
  });
  const chartLoaded = new Promise((resolve, reject) => {
    if (/** @type {any} */ (window).Chart) return resolve(undefined);
    // The Chart.js element comes before this script's in the page, so it exists already.
    const script = /** @type {HTMLScriptElement} */ (document.getElementById('chartjs'));
    script.addEventListener('load', resolve, { once: true });
    script.addEventListener('error', () => reject(new Error('Chart.js could not be loaded')), { once: true });
  });

  /** A text of the page, with `{name}` placeholders filled. */
  const t = (/** @type {string} */ key, /** @type {Record<string, string|number>} */ params = {}) =>
    (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));

  const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

  // --- the API ------------------------------------------------------------------------------------------------

  /**
   * Runs one of the page's persisted operations by id. GET, so that a browser or CDN may cache it by URL;
   * `apollo-require-preflight` satisfies Apollo's CSRF prevention; Accept-Language asks for names and labels in
   * the page's language.
   * @param {string} name @param {Record<string, unknown>} [variables] @returns {Promise<any>}
   */
  async function run(name, variables) {
    const url = new URL(config.graphql, location.href);
    url.searchParams.set('id', config.operations[name]);
    if (variables && Object.keys(variables).length)
      url.searchParams.set('variables', JSON.stringify(variables));
    const res = await fetch(url, {
      headers: {
        accept: 'application/graphql-response+json, application/json',
        'apollo-require-preflight': 'true',
        'accept-language': lang,
      },
    });
    /** @type {any} */
    let body;
    try {
      body = await res.json();
    } catch {
      throw new Error(`HTTP ${res.status}`);
    }
    if (body.errors?.length) throw new Error(body.errors.map((/** @type {any} */ e) => e.message).join('; '));
    if (!res.ok || !body.data) throw new Error(`HTTP ${res.status}`);
    return body.data;
  }

  /** Every node of a paginated operation, following `endCursor` (at most MAX_PAGES pages). */
  async function allNodes(/** @type {string} */ name, /** @type {(data: any) => any} */ connectionOf) {
    const nodes = [];
    let after = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const connection = connectionOf(await run(name, after ? { after } : undefined));
      nodes.push(...connection.nodes);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    return nodes;
  }

  // --- formatting ---------------------------------------------------------------------------------------------

  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const percent = new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  const compact = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });
  /** @type {Map<string, Intl.NumberFormat>} */
  const moneyFormats = new Map();
  /** An exact amount (decimal string) in its currency, with the currency's own decimals (TND: 3, millimes). */
  const money = (/** @type {string} */ amount, /** @type {string} */ currency) => {
    let f = moneyFormats.get(currency);
    if (!f) moneyFormats.set(currency, (f = new Intl.NumberFormat(locale, { style: 'currency', currency })));
    // A string is formatted as the exact decimal it is (Intl.NumberFormat v3), not rounded through a double.
    return f.format(/** @type {any} */ (amount));
  };
  const collator = new Intl.Collator(locale);
  const dayFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' });
  const monthFormat = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', timeZone: 'UTC' });
  const regions = new Intl.DisplayNames([locale], { type: 'region' });
  /** An ISO 8601 date as precise as the source gives it: `2021`, `2022-05` or `2018-02-28`. */
  const isoDate = (/** @type {string|null} */ iso) => {
    if (!iso) return '';
    if (/^\d{4}$/.test(iso)) return iso;
    if (/^\d{4}-\d{2}$/.test(iso)) return monthFormat.format(new Date(`${iso}-01T00:00:00Z`));
    return dayFormat.format(new Date(`${iso.slice(0, 10)}T00:00:00Z`));
  };
  const country = (/** @type {string|null} */ code) => {
    if (!code) return t('unknown');
    try {
      return regions.of(code) ?? code;
    } catch {
      return code;
    }
  };

  // --- DOM helpers --------------------------------------------------------------------------------------------

  /**
   * An element with attributes and children (strings become text: nothing from the API is parsed as HTML).
   * @param {string} tag @param {Record<string, string|undefined>} [attrs] @param {(Node|string)[]} [children]
   */
  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, v);
    node.append(...children);
    return node;
  }

  /**
   * Fills a table: a caption, a header row, body rows. `head` names the columns; a name starting with `#` is a
   * column of figures (aligned to the end). A cell is text, a node, or `{ text, value, kind }` where `value` is
   * the API's exact figure, kept in `data-value` so that what is shown can be checked against the API.
   * @param {string} id @param {string} caption @param {string[]} head @param {any[][]} rows
   */
  function fillTable(id, caption, head, rows) {
    const numeric = head.map((h) => h.startsWith('#'));
    const cls = (/** @type {number} */ i) => (numeric[i] ? 'num' : undefined);
    const table = $(id);
    table.replaceChildren(
      el('caption', { class: 'visually-hidden' }, [caption]),
      el('thead', {}, [
        el(
          'tr',
          {},
          head.map((h, i) => el('th', { scope: 'col', class: cls(i) }, [h.replace(/^#/, '')])),
        ),
      ]),
      el(
        'tbody',
        {},
        rows.map((cells) =>
          el(
            'tr',
            {},
            cells.map((c, i) => {
              const tag = i ? 'td' : 'th';
              const attrs = i ? { class: cls(i) } : { scope: 'row', class: cls(i) };
              if (c instanceof Node) return el(tag, attrs, [c]);
              if (c && typeof c === 'object') {
                return el(tag, attrs, [
                  el('span', { class: 'figure', 'data-value': c.value, 'data-kind': c.kind }, [c.text]),
                ]);
              }
              return el(tag, attrs, [String(c ?? '')]);
            }),
          ),
        ),
      ),
    );
  }

  /** Says where the figures of a section came from: each dataset once, linked to where it is published. */
  function cite(
    /** @type {string} */ id,
    /** @type {{dataset: string, url?: string|null, license?: string|null, record?: string|null}[]} */ sources,
  ) {
    const seen = new Map();
    for (const s of sources) {
      const key = `${s.dataset}\u0000${s.url ?? ''}`;
      const entry = seen.get(key) ?? { ...s, records: new Set() };
      if (s.record) entry.records.add(s.record);
      seen.set(key, entry);
    }
    const items = [...seen.values()].map((s) => {
      const parts = [
        s.url ? el('a', { href: s.url, rel: 'noopener', class: 'source-link' }, [s.dataset]) : s.dataset,
      ];
      if (s.records.size) parts.push(` (${[...s.records].join(', ')})`);
      if (s.license) parts.push(` — ${t('licence')} ${s.license}`);
      return el('span', { class: 'source' }, parts);
    });
    const out = $(id);
    // French puts a (thin) space before a colon; Arabic and English do not.
    const colon = lang === 'fr' ? '\u202f: ' : ': ';
    out.replaceChildren(el('strong', {}, [`${items.length > 1 ? t('sources') : t('source')}${colon}`]));
    items.forEach((item, i) => out.append(...(i ? ['; ', item] : [item])));
  }

  const statusOf = (/** @type {string} */ section) =>
    /** @type {HTMLElement} */ ($(section).querySelector('.status'));
  function setState(/** @type {string} */ section, /** @type {string} */ state, message = '') {
    $(section).dataset.state = state;
    const status = statusOf(section);
    status.textContent = message;
    status.hidden = !message;
    status.classList.toggle('error', state === 'error');
    if (state === 'error') status.setAttribute('role', 'alert');
    const states = ['budget', 'commitments', 'members'].map((s) => $(s).dataset.state);
    document.body.dataset.state = states.includes('error')
      ? 'error'
      : states.every((s) => s === 'ready')
        ? 'ready'
        : 'loading';
  }

  // --- charts -------------------------------------------------------------------------------------------------

  /** @type {Map<string, any>} */
  const charts = new Map();

  /**
   * Draws (or redraws) a bar chart, without animation, and marks its canvas `data-chart="ready"` once drawn.
   * @param {string} id @param {any} data @param {{horizontal?: boolean, stacked?: boolean, format: (v: number) => string, tooltip: (ctx: any) => string}} o
   */
  async function barChart(id, data, o) {
    await chartLoaded;
    const canvas = /** @type {HTMLCanvasElement} */ ($(id));
    canvas.dataset.chart = 'drawing';
    charts.get(id)?.destroy();
    const valueAxis = {
      stacked: o.stacked,
      beginAtZero: true,
      ticks: { callback: (/** @type {number} */ v) => o.format(v) },
      grid: { color: '#e3e7ec' },
    };
    const categoryAxis = { stacked: o.stacked, grid: { display: false }, ticks: { autoSkip: false } };
    const Chart = /** @type {any} */ (window).Chart;
    const chart = new Chart(canvas, {
      type: 'bar',
      data,
      options: {
        indexAxis: o.horizontal ? 'y' : 'x',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        locale,
        // Right to left: the legend and tooltips read from the right, and the category axis starts on the right.
        plugins: {
          legend: { position: 'bottom', rtl, textDirection: dir, labels: { boxWidth: 14, boxHeight: 14 } },
          tooltip: { rtl, textDirection: dir, callbacks: { label: o.tooltip } },
        },
        scales: o.horizontal
          ? { x: { ...valueAxis, reverse: rtl }, y: { ...categoryAxis, position: rtl ? 'right' : 'left' } }
          : { x: { ...categoryAxis, reverse: rtl }, y: { ...valueAxis, position: rtl ? 'right' : 'left' } },
      },
    });
    charts.set(id, chart);
    canvas.dataset.chart = 'ready';
  }

  // --- the budget ---------------------------------------------------------------------------------------------

  const params = new URLSearchParams(location.search);
  const state = {
    municipality: params.get('municipality') ?? '',
    direction: params.get('direction') === 'REVENUE' ? 'REVENUE' : 'EXPENDITURE',
    year: params.get('year') ?? '',
    /** @type {any} */
    budget: null,
  };

  /** Keeps the address (and the language links) in step with what is shown, so it can be shared. */
  function remember() {
    const p = new URLSearchParams(location.search);
    p.set('lang', lang);
    if (state.municipality) p.set('municipality', state.municipality);
    p.set('direction', state.direction);
    if (state.year) p.set('year', state.year);
    else p.delete('year');
    history.replaceState(null, '', `${location.pathname}?${p}`);
    for (const a of document.querySelectorAll('.languages a')) {
      const other = new URLSearchParams(p);
      other.set('lang', /** @type {HTMLElement} */ (a).dataset.lang ?? lang);
      a.setAttribute('href', `?${other}`);
    }
  }

  const totalOf = (/** @type {any} */ group, /** @type {string} */ phase) =>
    group.totals.find((/** @type {any} */ x) => x.phase === phase) ?? null;
  const amountCell = (/** @type {any} */ total, /** @type {string} */ kind) =>
    total
      ? { text: money(total.amount.amount, total.amount.currency), value: total.amount.amount, kind }
      : '—';
  const rateCell = (/** @type {number|null} */ rate) =>
    rate === null ? '—' : { text: percent.format(rate), value: String(rate), kind: 'rate' };

  /** A Titre's name: the API's label where it has one, else the Tunisian nomenclature's, else `Titre <code>`. */
  function titreName(/** @type {{value: string|null, label: string|null, scheme: string|null}} */ key) {
    if (key.value === null) return t('noTitre');
    if (key.label) return key.label;
    const gloss = `titre.${state.direction}.${key.value}`;
    if (key.scheme === 'tn-municipal-budget-nomenclature' && strings[gloss]) return t(gloss);
    return t('titreN', { n: key.value });
  }

  /** Fills the municipality selector from the list of budgets (`DashboardMunicipalities`' nodes). */
  async function loadMunicipalities(/** @type {Promise<any[]>} */ budgetList) {
    const budgets = await budgetList;
    /** @type {Map<string, string>} */
    const names = new Map();
    for (const b of budgets) names.set(b.organization.id, b.organization.name);
    const list = [...names].sort((a, b) => collator.compare(a[1], b[1]));
    const select = /** @type {HTMLSelectElement} */ ($('municipality'));
    select.replaceChildren(...list.map(([id, name]) => el('option', { value: id }, [name])));
    if (!list.length) throw new Error(t('noData'));
    if (!names.has(state.municipality)) state.municipality = list[0][0];
    select.value = state.municipality;
    select.disabled = false;
  }

  /** Which load is the latest: an answer to an earlier one (another municipality, direction) is dropped. */
  let loads = 0;

  const fetchBudget = () =>
    run('DashboardMunicipalityBudget', { organizationId: state.municipality, direction: state.direction });

  /** Shows the chosen municipality's budget: fetched now, or already on its way (`prefetched`). */
  async function loadBudget(/** @type {Promise<any>|null} */ prefetched = null) {
    const load = ++loads;
    setState('budget', 'loading', t('loading'));
    const budget = await (prefetched ?? fetchBudget());
    if (load !== loads) return;
    state.budget = budget;
    const years = state.budget.byYear.map((/** @type {any} */ g) => g.keys[0].value);
    if (!years.includes(state.year)) {
      // The latest year with executed amounts (the one a reader wants first), else the latest year.
      const executed = state.budget.byYear.filter((/** @type {any} */ g) => totalOf(g, 'EXECUTED'));
      state.year = (executed.at(-1) ?? state.budget.byYear.at(-1))?.keys[0].value ?? '';
    }
    const yearSelect = /** @type {HTMLSelectElement} */ ($('year'));
    yearSelect.replaceChildren(...[...new Set(years)].map((y) => el('option', { value: y }, [y])));
    yearSelect.value = state.year;
    yearSelect.disabled = years.length === 0;
    remember();
    cite(
      'budget-sources',
      budget.budgets.nodes.map((/** @type {any} */ b) => b.source),
    );
    const byYear = budget.byYear;
    const currency = byYear[0]?.currency ?? 'TND';
    const heading = `${budget.organization?.name ?? state.municipality} — ${t(state.direction)}`;
    fillTable(
      'table-years',
      heading,
      [t('year'), `#${t('approved')}`, `#${t('executed')}`, `#${t('executionRate')}`],
      byYear.map((/** @type {any} */ g) => {
        const executed = amountCell(totalOf(g, 'EXECUTED'), 'executed');
        return [
          g.keys[0].value,
          amountCell(totalOf(g, 'APPROVED'), 'approved'),
          executed,
          rateCell(g.executionRate),
        ];
      }),
    );
    annotateAsOf('table-years', byYear);
    const amountOf = (/** @type {any} */ g, /** @type {string} */ phase) => {
      const total = totalOf(g, phase);
      return total ? Number(total.amount.amount) : null;
    };
    const sameCurrency = byYear.filter((/** @type {any} */ g) => g.currency === currency);
    const tooltip = (/** @type {any} */ ctx) =>
      `${ctx.dataset.label}: ${money(ctx.dataset.exact[ctx.dataIndex] ?? '0', currency)}`;
    const exact = (/** @type {any[]} */ groups, /** @type {string} */ phase) =>
      groups.map((g) => totalOf(g, phase)?.amount.amount ?? null);
    await barChart(
      'chart-years',
      {
        labels: sameCurrency.map((/** @type {any} */ g) => g.keys[0].value),
        datasets: [
          {
            label: t('approved'),
            data: sameCurrency.map((/** @type {any} */ g) => amountOf(g, 'APPROVED')),
            exact: exact(sameCurrency, 'APPROVED'),
            backgroundColor: APPROVED_COLOR,
          },
          {
            label: t('executed'),
            data: sameCurrency.map((/** @type {any} */ g) => amountOf(g, 'EXECUTED')),
            exact: exact(sameCurrency, 'EXECUTED'),
            backgroundColor: EXECUTED_COLOR,
          },
        ],
      },
      { format: (v) => compact.format(v), tooltip },
    );
    await drawTitres();
    setState('budget', 'ready');
  }

  /** Adds "as of <date>" under each executed amount that stands at a date (execution to date). */
  function annotateAsOf(/** @type {string} */ tableId, /** @type {any[]} */ groups) {
    const rows = $(tableId).querySelectorAll('tbody tr');
    groups.forEach((g, i) => {
      const asOf = totalOf(g, 'EXECUTED')?.asOf;
      const cell = rows[i]?.querySelector('[data-kind="executed"]')?.parentElement;
      if (asOf && cell)
        cell.append(el('span', { class: 'as-of', 'data-as-of': asOf }, [t('asOf', { date: isoDate(asOf) })]));
    });
  }

  async function drawTitres() {
    const budget = state.budget;
    const groups = budget.byTitre.filter((/** @type {any} */ g) => g.keys[0].value === state.year);
    const year = budget.byYear.find((/** @type {any} */ g) => g.keys[0].value === state.year);
    const currency = groups[0]?.currency ?? year?.currency ?? 'TND';
    // The year's key figures, from the year's own totals.
    const kpis = $('kpis');
    kpis.replaceChildren();
    if (year) {
      const approved = totalOf(year, 'APPROVED');
      const executed = totalOf(year, 'EXECUTED');
      const kpi = (
        /** @type {string} */ label,
        /** @type {string} */ text,
        /** @type {string} */ value,
        /** @type {string} */ kind,
        extra = '',
      ) =>
        el('div', { class: 'kpi' }, [
          el('dt', {}, [label]),
          el('dd', { 'data-value': value, 'data-kind': kind }, [text]),
          ...(extra ? [el('dd', { class: 'as-of' }, [extra])] : []),
        ]);
      if (approved)
        kpis.append(
          kpi(
            t('approved'),
            money(approved.amount.amount, approved.amount.currency),
            approved.amount.amount,
            'approved',
          ),
        );
      if (executed) {
        kpis.append(
          kpi(
            t('executed'),
            money(executed.amount.amount, executed.amount.currency),
            executed.amount.amount,
            'executed',
            executed.asOf ? t('asOf', { date: isoDate(executed.asOf) }) : '',
          ),
        );
      }
      if (!executed) {
        // Said, not left out: a reader should not take a missing figure for a zero.
        kpis.append(
          el('div', { class: 'kpi' }, [
            el('dt', {}, [t('executed')]),
            el('dd', {}, ['—']),
            el('dd', { class: 'as-of' }, [t('noExecution')]),
          ]),
        );
      }
      if (year.executionRate !== null)
        kpis.append(
          kpi(t('executionRate'), percent.format(year.executionRate), String(year.executionRate), 'rate'),
        );
    }
    $('titre-title').textContent = `${t('byTitre')} — ${state.year}`;
    fillTable(
      'table-titres',
      `${t('byTitre')} — ${state.year}`,
      [t('titre'), `#${t('approved')}`, `#${t('executed')}`, `#${t('executionRate')}`],
      groups.map((/** @type {any} */ g) => [
        titreName(g.keys[1]),
        amountCell(totalOf(g, 'APPROVED'), 'approved'),
        amountCell(totalOf(g, 'EXECUTED'), 'executed'),
        rateCell(g.executionRate),
      ]),
    );
    const exact = (/** @type {string} */ phase) =>
      groups.map((/** @type {any} */ g) => totalOf(g, phase)?.amount.amount ?? null);
    const floats = (/** @type {string} */ phase) =>
      exact(phase).map((/** @type {string|null} */ a) => (a === null ? null : Number(a)));
    await barChart(
      'chart-titres',
      {
        labels: groups.map((/** @type {any} */ g) => titreName(g.keys[1])),
        datasets: [
          {
            label: t('approved'),
            data: floats('APPROVED'),
            exact: exact('APPROVED'),
            backgroundColor: APPROVED_COLOR,
          },
          {
            label: t('executed'),
            data: floats('EXECUTED'),
            exact: exact('EXECUTED'),
            backgroundColor: EXECUTED_COLOR,
          },
        ],
      },
      {
        horizontal: true,
        format: (v) => compact.format(v),
        tooltip: (ctx) => `${ctx.dataset.label}: ${money(ctx.dataset.exact[ctx.dataIndex] ?? '0', currency)}`,
      },
    );
  }

  /**
   * The budget section: a municipality named in the address was asked for at once, with the list (`first`);
   * else, or when the list does not have it, the list's first one is asked for once the list is in.
   */
  async function budgetSection(/** @type {Promise<any[]>} */ list, /** @type {Promise<any>|null} */ first) {
    try {
      const asked = state.municipality;
      await loadMunicipalities(list);
      await loadBudget(first && state.municipality === asked ? first : null);
    } catch (err) {
      setState('budget', 'error', t('error', { message: err instanceof Error ? err.message : String(err) }));
    }
  }

  const reloadBudget = () =>
    loadBudget().catch((err) =>
      setState('budget', 'error', t('error', { message: err instanceof Error ? err.message : String(err) })),
    );
  /** The selectors: another municipality or direction is fetched, another year is redrawn from what is in. */
  function listen() {
    $('municipality').addEventListener('change', (e) => {
      state.municipality = /** @type {HTMLSelectElement} */ (e.target).value;
      state.year = '';
      void reloadBudget();
    });
    for (const input of document.querySelectorAll('input[name="direction"]')) {
      const radio = /** @type {HTMLInputElement} */ (input);
      radio.checked = radio.value === state.direction;
      radio.addEventListener('change', () => {
        state.direction = radio.value;
        void reloadBudget();
      });
    }
    $('year').addEventListener('change', (e) => {
      state.year = /** @type {HTMLSelectElement} */ (e.target).value;
      remember();
      setState('budget', 'loading', '');
      drawTitres().then(() => setState('budget', 'ready'));
    });
  }

  // --- commitments and OGP Local members ----------------------------------------------------------------------

  const completionLabel = (/** @type {string|null} */ level) => t(`completion.${level}`);

  async function commitmentsSection(
    /** @type {Promise<any>} */ stats,
    /** @type {Promise<any[]>} */ members,
  ) {
    try {
      const { byCountry } = await stats;
      /** @type {Map<string, {code: string|null, label: string, counts: Map<string|null, number>, total: number}>} */
      const countries = new Map();
      for (const g of byCountry) {
        const [c, level] = g.keys;
        const key = c.value ?? '';
        const entry = countries.get(key) ?? {
          code: c.value,
          label: c.label ?? country(c.value),
          counts: new Map(),
          total: 0,
        };
        entry.counts.set(level.value, (entry.counts.get(level.value) ?? 0) + g.count);
        entry.total += g.count;
        countries.set(key, entry);
      }
      const rows = [...countries.values()].sort(
        (a, b) => b.total - a.total || collator.compare(a.label, b.label),
      );
      const levels = COMPLETION_LEVELS.filter((l) => rows.some((r) => r.counts.has(l)));
      const total = rows.reduce((n, r) => n + r.total, 0);
      $('commitments-note').textContent = t('commitmentsNote', {
        n: integer.format(Math.min(TOP_COUNTRIES, rows.length)),
      });
      $('commitment-kpis').replaceChildren(
        el('div', { class: 'kpi' }, [
          el('dt', {}, [t('commitmentCount')]),
          el('dd', { 'data-value': String(total), 'data-kind': 'count' }, [integer.format(total)]),
        ]),
        el('div', { class: 'kpi' }, [
          el('dt', {}, [t('countries')]),
          el('dd', { 'data-value': String(rows.length), 'data-kind': 'count' }, [
            integer.format(rows.length),
          ]),
        ]),
      );
      const count = (/** @type {number} */ n, /** @type {string} */ kind) => ({
        text: integer.format(n),
        value: String(n),
        kind,
      });
      fillTable(
        'table-commitments',
        t('commitments'),
        [t('country'), ...levels.map((l) => `#${completionLabel(l)}`), `#${t('total')}`],
        rows.map((r) => [
          el('span', { 'data-country': r.code ?? '' }, [r.label]),
          ...levels.map((l) => count(r.counts.get(l) ?? 0, `completion:${l}`)),
          count(r.total, 'total'),
        ]),
      );
      const top = rows.slice(0, TOP_COUNTRIES);
      await barChart(
        'chart-commitments',
        {
          labels: top.map((r) => r.label),
          datasets: levels.map((l) => ({
            label: completionLabel(l),
            data: top.map((r) => r.counts.get(l) ?? 0),
            backgroundColor: COMPLETION_COLORS[COMPLETION_LEVELS.indexOf(l)],
          })),
        },
        {
          horizontal: true,
          stacked: true,
          format: (v) => integer.format(v),
          tooltip: (ctx) => `${ctx.dataset.label}: ${integer.format(ctx.raw)}`,
        },
      );
      // The commitments counted are those of the members' action plans: their datasets are the sources.
      cite(
        'commitment-sources',
        (await members).flatMap((m) => m.actionPlans.map((/** @type {any} */ p) => p.source)),
      );
      setState('commitments', 'ready');
    } catch (err) {
      setState(
        'commitments',
        'error',
        t('error', { message: err instanceof Error ? err.message : String(err) }),
      );
    }
  }

  async function membersSection(/** @type {Promise<any>} */ stats, /** @type {Promise<any[]>} */ members) {
    try {
      const local = (await members)
        .filter((m) => m.ogpMembership?.type === 'LOCAL')
        .sort((a, b) => collator.compare(a.name, b.name));
      const { byMember } = await stats;
      const counts = new Map(byMember.map((/** @type {any} */ g) => [g.keys[0].value, g.count]));
      fillTable(
        'table-members',
        t('members'),
        [t('member'), t('country'), t('joined'), t('actionPlans'), `#${t('commitmentCount')}`],
        local.map((m) => [
          el('span', { 'data-member': m.id }, [m.name]),
          country(m.country),
          m.ogpMembership.joined
            ? { text: isoDate(m.ogpMembership.joined), value: m.ogpMembership.joined, kind: 'date' }
            : '—',
          m.actionPlans
            .map((/** @type {any} */ p) =>
              p.endYear && p.endYear !== p.startYear
                ? `${p.startYear}–${p.endYear}`
                : String(p.startYear ?? '—'),
            )
            .join(', ') || '—',
          {
            text: integer.format(counts.get(m.id) ?? 0),
            value: String(counts.get(m.id) ?? 0),
            kind: 'count',
          },
        ]),
      );
      cite(
        'member-sources',
        local.flatMap((m) => [m.source, ...m.actionPlans.map((/** @type {any} */ p) => p.source)]),
      );
      setState('members', 'ready');
    } catch (err) {
      setState('members', 'error', t('error', { message: err instanceof Error ? err.message : String(err) }));
    }
  }

  // Every request leaves at once, before the page is even parsed; each section draws as soon as its own data is
  // in. (A failure is shown by the section that awaits it; these catches only keep it from being "unhandled".)
  const municipalities = allNodes('DashboardMunicipalities', (d) => d.budgets);
  const first = state.municipality ? fetchBudget() : null;
  const stats = run('DashboardCommitmentsByCountry');
  const members = allNodes('DashboardOgpMembers', (d) => d.organizations);
  for (const p of [municipalities, first, stats, members]) p?.catch(() => undefined);
  void documentLoaded.then(() => {
    listen();
    void budgetSection(municipalities, first);
    void commitmentsSection(stats, members);
    void membersSection(stats, members);
  });
})();
