import { createHash } from 'node:crypto';
import type { Service } from '@civic/common/service';
import { createGatewayService } from '@civic/gateway/server';
import { SUBGRAPH_NAMES } from '@civic/subgraphs';
import { startSystem, type System } from '../support/system';

/**
 * Issue 10's browsers: CORS at the gateway (CORS_ORIGINS: any origin without credentials by default, or a
 * list), Apollo's CSRF prevention kept, the explorer page's security headers (a Content-Security-Policy that
 * allows exactly its own inline script), nosniff on every answer. Real servers on port 0. (That the explorer
 * still runs under this policy in a real browser was checked with headless Chromium: see docs/protection.md.)
 */

let system: System;
let open: Service;
let listed: Service;
let openUrl: string;
let listedUrl: string;

const ALLOWED = 'https://news.example';

beforeAll(async () => {
  system = await startSystem('sqlite');
  const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, system.subgraphUrls[n]]));
  open = await createGatewayService({ subgraphUrls, rateLimit: { costPerMinute: 0 } });
  openUrl = (await open.listen(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
  const before = process.env.CORS_ORIGINS;
  process.env.CORS_ORIGINS = `${ALLOWED}, https://other.example`;
  try {
    listed = await createGatewayService({ subgraphUrls, rateLimit: { costPerMinute: 0 } });
  } finally {
    if (before === undefined) delete process.env.CORS_ORIGINS;
    else process.env.CORS_ORIGINS = before;
  }
  listedUrl = (await listed.listen(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
});

afterAll(async () => {
  await open?.stop();
  await listed?.stop();
  await system?.stop();
});

const preflight = (
  base: string,
  path: string,
  origin: string,
  headers = 'content-type, apollo-require-preflight',
) =>
  fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
  });

const graphqlPost = (base: string, origin: string) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });

describe('CORS, by default: any origin may read, never with credentials', () => {
  it('a preflight gets 204 with the methods and headers a GraphQL client and the explorer send', async () => {
    const res = await preflight(
      openUrl,
      '/graphql',
      'https://anywhere.example',
      'content-type, authorization, x-api-key, apollo-require-preflight, x-request-id, accept-language',
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST');
    const allowed = res.headers.get('access-control-allow-headers')!.split(',');
    for (const h of [
      'content-type',
      'authorization',
      'x-api-key',
      'apollo-require-preflight',
      'x-request-id',
      'accept-language',
    ]) {
      expect(allowed).toContain(h);
    }
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('an answer to /graphql may be read by any page, with its request id and rate-limit headers', async () => {
    const res = await graphqlPost(openUrl, 'https://anywhere.example');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(await res.json()).toEqual(expect.objectContaining({ data: { __typename: 'Query' } }));
  });

  it('the export endpoints too, with their CSRF checks kept', async () => {
    const saved = await fetch(`${openUrl}/export.csv?name=organizations`, {
      headers: { origin: 'https://anywhere.example' },
    });
    expect(saved.status).toBe(200);
    expect(saved.headers.get('access-control-allow-origin')).toBe('*');
    expect(saved.headers.get('access-control-expose-headers')).toContain('content-disposition');
    await saved.body?.cancel();
    const pre = await preflight(openUrl, '/export.json', 'https://anywhere.example');
    expect(pre.status).toBe(204);
    // A query export sent cross-site by a page without a preflight header is still refused.
    const forged = await fetch(
      `${openUrl}/export.csv?query=${encodeURIComponent('{ organizations { nodes { id } } }')}`,
      {
        headers: {
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
          'sec-fetch-mode': 'no-cors',
        },
      },
    );
    expect(forged.status).toBe(400);
  });

  it("Apollo's CSRF prevention is kept: a GET without a preflight header is refused, with one it is not", async () => {
    const q = encodeURIComponent('{ __typename }');
    const bare = await fetch(`${openUrl}/graphql?query=${q}`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(bare.status).toBe(400);
    expect(await bare.text()).toMatch(/CSRF|preflight/i);
    const withHeader = await fetch(`${openUrl}/graphql?query=${q}`, {
      headers: { origin: 'https://anywhere.example', 'apollo-require-preflight': 'true' },
    });
    expect(withHeader.status).toBe(200);
  });
});

describe('CORS_ORIGINS: a list restricts which pages may read', () => {
  it('a listed origin is echoed back, with Vary: Origin', async () => {
    const pre = await preflight(listedUrl, '/graphql', ALLOWED);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('vary')).toMatch(/origin/i);
    const res = await graphqlPost(listedUrl, 'https://other.example');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://other.example');
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('another origin gets no Access-Control-Allow-Origin (its page cannot read the answer)', async () => {
    const pre = await preflight(listedUrl, '/graphql', 'https://evil.example');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await graphqlPost(listedUrl, 'https://evil.example');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('a malformed CORS_ORIGINS stops the service from starting, naming the variable', async () => {
    process.env.CORS_ORIGINS = 'news.example/path';
    try {
      await expect(createGatewayService({ subgraphUrls: system.subgraphUrls })).rejects.toThrow(
        /CORS_ORIGINS/,
      );
    } finally {
      delete process.env.CORS_ORIGINS;
    }
  });
});

describe('security headers', () => {
  it('the explorer page: a CSP allowing exactly its own inline script, no framing, nosniff, no referrer', async () => {
    const res = await fetch(`${openUrl}/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    const scripts = [...html.matchAll(/<script(?:\s[^>]*)?>([\s\S]*?)<\/script/gi)].map(
      (m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`,
    );
    expect(scripts.length).toBeGreaterThan(0);
    expect(directives['script-src']).toEqual(scripts);
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['worker-src']).toEqual(['blob:']);
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(directives['script-src']).not.toContain("'unsafe-inline'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('JSON answers: nosniff and a CSP that lets a rendered answer load nothing; no X-Powered-By', async () => {
    const res = await graphqlPost(openUrl, 'https://anywhere.example');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('the subgraphs: nosniff too, and no CORS (only the gateway calls them)', async () => {
    for (const name of SUBGRAPH_NAMES) {
      const res = await fetch(system.subgraphUrls[name], {
        method: 'POST',
        headers: { origin: 'https://anywhere.example', 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect({ name, nosniff: res.headers.get('x-content-type-options') }).toEqual({
        name,
        nosniff: 'nosniff',
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
