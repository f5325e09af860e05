import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { subgraphTypeDefs } from '@civic/common/schema';
import { startPartnerSubgraph, type PartnerSubgraph } from '../../examples/partner-subgraph/src/server';

/**
 * The partner example of issue 9 (examples/partner-subgraph/), run for real on port 0 and called the way
 * the gateway calls it. The requests are signed here, independently of the example's own code, so that the
 * test checks the algorithm of the docs and not the example against itself.
 */
const EXAMPLE_DIR = join(__dirname, '..', '..', 'examples', 'partner-subgraph');
const SECRET = 'partner-example-test-secret';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as docs/partners.md describes it. */
function sign(body: string, opts: { secret?: string; t?: number } = {}): string {
  const t = opts.t ?? Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', opts.secret ?? SECRET)
    .update(`${t}.${body}`)
    .digest('hex');
  return `t=${t},v1=${v1}`;
}

async function post(url: string, body: string, signature?: string, signal?: AbortSignal) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers['x-civic-signature'] = signature;
  const res = await fetch(url, { method: 'POST', headers, body, signal });
  return { status: res.status, json: (await res.json()) as any };
}

/** A signed GraphQL POST, answered 200. */
async function query(subgraph: PartnerSubgraph, source: string, variables?: Record<string, unknown>) {
  const body = JSON.stringify({ query: source, variables });
  const res = await post(subgraph.url, body, sign(body));
  expect(res.status).toBe(200);
  return res.json;
}

const ENTITIES = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Organization {
        id
        indicators(year: 2022) {
          kind
          year
          value
          unit
          synthetic
        }
        latestIndicator(kind: PUBLIC_COUNCIL_MEETINGS) {
          kind
          year
          unit
        }
      }
    }
  }
`;

describe('the partner example subgraph', () => {
  let subgraph: PartnerSubgraph;

  beforeAll(async () => {
    subgraph = await startPartnerSubgraph({ port: 0, secret: SECRET });
  });
  afterAll(() => subgraph.stop());

  it('listens on the port it was given (0: a free one) and returns its real /graphql URL', () => {
    expect(subgraph.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/graphql$/);
  });

  it('resolves Organization entities by id, in representation order, with synthetic indicators', async () => {
    const representations = ['tn-municipality-34012', 'org-unknown', 'ma-region-01'].map((id) => ({
      __typename: 'Organization',
      id,
    }));
    const { data, errors } = await query(subgraph, ENTITIES, { representations });
    expect(errors).toBeUndefined();
    expect(data._entities.map((o: any) => o.id)).toEqual([
      'tn-municipality-34012',
      'org-unknown',
      'ma-region-01',
    ]);
    for (const known of [data._entities[0], data._entities[2]]) {
      expect(known.indicators.map((i: any) => [i.kind, i.year, i.unit, i.synthetic])).toEqual([
        ['WATER_ACCESS', 2022, 'percent', true],
        ['WASTE_COLLECTION', 2022, 'percent', true],
        ['COMPLAINTS_RESOLVED', 2022, 'percent', true],
        ['PUBLIC_COUNCIL_MEETINGS', 2022, 'meetings', true],
      ]);
      for (const i of known.indicators) expect(i.value).toMatch(/^\d+(\.\d)?$/);
      expect(known.latestIndicator).toEqual({
        kind: 'PUBLIC_COUNCIL_MEETINGS',
        year: 2023,
        unit: 'meetings',
      });
    }
    // An organization the partner knows nothing about has no indicators: not an error.
    expect(data._entities[1]).toEqual({ id: 'org-unknown', indicators: [], latestIndicator: null });
    // The same question gives the same synthetic figures.
    expect((await query(subgraph, ENTITIES, { representations })).data).toEqual(data);
  });

  it('answers its own root field', async () => {
    expect(await query(subgraph, /* GraphQL */ '{ indicatorKinds { kind label unit } }')).toEqual({
      data: {
        indicatorKinds: [
          { kind: 'WATER_ACCESS', label: 'Drinking water access', unit: 'percent' },
          { kind: 'WASTE_COLLECTION', label: 'Weekly waste collection', unit: 'percent' },
          { kind: 'COMPLAINTS_RESOLVED', label: 'Complaints answered within 30 days', unit: 'percent' },
          { kind: 'PUBLIC_COUNCIL_MEETINGS', label: 'Public council meetings', unit: 'meetings' },
        ],
      },
    });
  });

  describe('checks x-civic-signature against the raw body', () => {
    const body = JSON.stringify({ query: '{ indicatorKinds { kind } }' });
    const now = () => Math.floor(Date.now() / 1000);

    it('accepts a valid signature, on POST and on GET (empty body)', async () => {
      expect((await post(subgraph.url, body, sign(body))).status).toBe(200);
      const res = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ indicatorKinds { kind } }')}`, {
        headers: { 'x-civic-signature': sign(''), 'apollo-require-preflight': 'true' },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).data.indicatorKinds).toHaveLength(4);
    });

    it.each([
      ['missing', undefined, /^missing x-civic-signature header$/],
      [
        'malformed',
        'v1=abc',
        /^malformed x-civic-signature header: expected t=<unix seconds>,v1=<64 hex digits>$/,
      ],
      ['wrong', sign(body, { secret: 'not-the-secret' }), /^wrong x-civic-signature/],
      ['wrong', sign(`${body} `), /^wrong x-civic-signature/], // signed another body
      ['expired', sign(body, { t: now() - 301 }), /^expired x-civic-signature: signed 30\d s ago/],
      ['expired', sign(body, { t: now() + 3600 }), /in the future/],
    ])('refuses a signature that is %s with 401 and says why', async (reason, signature, message) => {
      const res = await post(subgraph.url, body, signature as string | undefined);
      expect(res.status).toBe(401);
      expect(res.json.errors).toHaveLength(1);
      expect(res.json.errors[0].message).toMatch(message);
      expect(res.json.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
    });

    it('refuses an unsigned GET, and leaves /health open', async () => {
      const res = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ indicatorKinds { kind } }')}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(res.status).toBe(401);
      const health = await fetch(subgraph.url.replace(/\/graphql$/, '/health'));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
    });
  });

  describe('its SDL', () => {
    const file = readFileSync(join(EXAMPLE_DIR, 'schema.graphql'), 'utf8');

    it('is what { _service { sdl } } serves, and schema.graphql describes exactly that', async () => {
      const served = (await query(subgraph, '{ _service { sdl } }')).data._service.sdl;
      expect(subgraph.sdl).toBe(served);
      // Built from schema.graphql alone, here, a subgraph serves the very same SDL.
      const fromFile = await graphql({
        schema: buildSubgraphSchema(parse(file)),
        source: '{ _service { sdl } }',
      });
      expect((fromFile.data as any)._service.sdl).toBe(served);
    });

    it('composes with our three subgraphs, adding its fields to Organization', () => {
      const result = composeServices([
        ...['organizations', 'commitments', 'budgets'].map((name) => ({
          name,
          url: `http://${name}.invalid/graphql`,
          typeDefs: subgraphTypeDefs(name),
        })),
        { name: 'city-indicators', url: subgraph.url, typeDefs: parse(subgraph.sdl) },
      ]);
      expect(result.errors ?? []).toEqual([]);
      const org = result.schema!.toAPISchema().toGraphQLJSSchema().getType('Organization') as any;
      expect(Object.keys(org.getFields())).toEqual(
        expect.arrayContaining(['name', 'indicators', 'latestIndicator']),
      );
    });

    it('uses no @override, @shareable, @provides or @external, and describes every type, field and argument', () => {
      expect(file).not.toMatch(/@(override|shareable|provides|external)\b/);
      const undescribed: string[] = [];
      const check = (what: string, node: any) => {
        if (!node.description?.value) undescribed.push(what);
      };
      for (const def of parse(file).definitions as any[]) {
        if (def.kind === 'SchemaExtension') continue;
        check(def.name.value, def);
        for (const member of [...(def.fields ?? []), ...(def.values ?? [])]) {
          check(`${def.name.value}.${member.name.value}`, member);
          for (const arg of member.arguments ?? [])
            check(`${def.name.value}.${member.name.value}(${arg.name.value})`, arg);
        }
      }
      expect(undescribed).toEqual([]);
    });
  });

  it("imports nothing but Node's modules, its own files and its package.json's dependencies (a partner has only our docs)", () => {
    const pkg = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'package.json'), 'utf8'));
    const dependencies = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    const foreign: string[] = [];
    for (const dir of ['src', 'test']) {
      for (const file of readdirSync(join(EXAMPLE_DIR, dir)).filter((f) => f.endsWith('.ts'))) {
        const source = readFileSync(join(EXAMPLE_DIR, dir, file), 'utf8');
        for (const [, spec] of source.matchAll(/\b(?:from|import|require\()\s*'([^']+)'/g)) {
          const own = spec.startsWith('.') && resolve(EXAMPLE_DIR, dir, spec).startsWith(`${EXAMPLE_DIR}/`);
          const dependency = dependencies.some((d) => spec === d || spec.startsWith(`${d}/`));
          if (!own && !dependency && !spec.startsWith('node:')) foreign.push(`${dir}/${file}: ${spec}`);
        }
      }
    }
    expect(foreign).toEqual([]);
  });
});

describe('a slow partner (delayMs)', () => {
  let slow: PartnerSubgraph;

  beforeAll(async () => {
    slow = await startPartnerSubgraph({ port: 0, secret: SECRET, delayMs: 400 });
  });
  afterAll(() => slow.stop());

  const body = JSON.stringify({ query: '{ indicatorKinds { kind } }' });

  it('delays every GraphQL answer, and a caller that stops waiting gives up on time', async () => {
    const started = Date.now();
    expect((await post(slow.url, body, sign(body))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);

    const timedOut = Date.now();
    await expect(post(slow.url, body, sign(body), AbortSignal.timeout(100))).rejects.toThrow();
    expect(Date.now() - timedOut).toBeLessThan(350);
  });

  it('answers /health at once, and at full speed again when the delay is lifted', async () => {
    let started = Date.now();
    expect((await fetch(slow.url.replace(/\/graphql$/, '/health'))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(300);
    slow.setDelayMs(0);
    started = Date.now();
    expect((await post(slow.url, body, sign(body))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(300);
  });

  it('stops without waiting out the delay of a request in flight', async () => {
    const other = await startPartnerSubgraph({ port: 0, secret: SECRET, delayMs: 60_000 });
    const pending = post(other.url, body, sign(body)).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    // fetch fails (TypeError: fetch failed) when the connection is closed without an answer.
    expect(await pending).toHaveProperty('name', 'TypeError');
  });
});
