/**
 * `npx tsx test/bench/limits.bench.ts [-- --runs N]`: first, what the operation limits measure of the real
 * dashboard and search queries (test/bench/bench-queries.ts) and of the explorer's introspection query,
 * against the gateway's API schema: tokens, depth, aliases, directives, root fields, fields after fragment
 * expansion, and cost (the defaults of docs/protection.md were chosen from this table). Then it starts the
 * system (fresh embedded SQLite, ports 0) and times the gateway's refusal of each of issue 10's hostile
 * documents (test/bench/hostile-documents.ts), N runs each after a warm-up: p50 and max. A benchmark, not a
 * test: it asserts only that each document is refused with its code.
 */
import { Supergraph } from '@apollo/federation-internals';
import { getIntrospectionQuery, Kind, Lexer, parse, Source, TokenKind, validate } from 'graphql';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from '@civic/common/config';
import { OperationLimitError, operationCost } from '@civic/common/limits';
import { countFields, limitRules } from '@civic/common/limits/rules';
import { readSupergraph } from '@civic/gateway/supergraph';
import { parseArgs } from 'node:util';
import { startSystem } from '../support/system';
import { BENCH_QUERIES } from './bench-queries';
import {
  ENTITIES_QUERY,
  HOSTILE_DOCUMENTS,
  representations,
  type HostileDocument,
} from './hostile-documents';

const schema = Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();

/** Every limit at 0: each rule reports what it measured. */
const ZERO: OperationLimits = {
  ...DEFAULT_OPERATION_LIMITS,
  maxDepth: 0,
  maxAliases: 0,
  maxDirectives: 0,
  maxRootFields: 0,
  maxFields: 100_000,
};

function tokens(query: string): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

function measure(query: string, variables?: Record<string, unknown>) {
  const document = parse(query);
  const measured: Record<string, number> = {};
  for (const err of validate(schema, document, limitRules(ZERO))) {
    if (err instanceof OperationLimitError) measured[err.code] = Number(err.extensions.measured);
  }
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])),
  );
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
  measured.fields = countFields(op.selectionSet, (n) => fragments.get(n));
  return {
    tokens: tokens(query),
    depth: measured.QUERY_TOO_DEEP ?? 0,
    aliases: measured.TOO_MANY_ALIASES ?? 0,
    directives: measured.TOO_MANY_DIRECTIVES ?? 0,
    roots: measured.TOO_MANY_ROOT_FIELDS ?? 0,
    fields: measured.fields ?? 0,
    cost: operationCost(schema, document, variables, undefined),
  };
}

const rows = [
  ...BENCH_QUERIES.map((q) => ({ name: q.name, ...measure(q.query, q.variables) })),
  { name: 'explorer: introspection query', ...measure(getIntrospectionQuery()) },
];
const cols = ['tokens', 'depth', 'aliases', 'directives', 'roots', 'fields', 'cost'] as const;
console.log(`${'query'.padEnd(52)} ${cols.map((c) => c.padStart(10)).join(' ')}`);
for (const r of rows)
  console.log(`${r.name.padEnd(52)} ${cols.map((c) => String(r[c]).padStart(10)).join(' ')}`);
const max = Object.fromEntries(cols.map((c) => [c, Math.max(...rows.slice(0, -1).map((r) => r[c]))]));
console.log(
  `${'max of the bench queries'.padEnd(52)} ${cols.map((c) => String(max[c]).padStart(10)).join(' ')}`,
);
const d = DEFAULT_OPERATION_LIMITS;
const limits = [
  d.maxTokens,
  d.maxDepth,
  d.maxAliases,
  d.maxDirectives,
  d.maxRootFields,
  d.maxFields,
  d.maxCost,
];
console.log(`${'default limit'.padEnd(52)} ${limits.map((l) => String(l).padStart(10)).join(' ')}`);

async function timeRefusals(runs: number) {
  const system = await startSystem('sqlite');
  try {
    const send = async (url: string, doc: Pick<HostileDocument, 'query' | 'variables' | 'code'>) => {
      const body = JSON.stringify({ query: doc.query, variables: doc.variables });
      const started = process.hrtime.bigint();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (!json.errors?.some((e) => e.extensions?.code === doc.code))
        throw new Error(`not refused with ${doc.code}: ${JSON.stringify(json).slice(0, 300)}`);
      return ms;
    };
    const cases: [string, string, Pick<HostileDocument, 'query' | 'variables' | 'code'>][] = [
      ...Object.values(HOSTILE_DOCUMENTS).map((d): [string, string, HostileDocument] => [
        d.name,
        system.gatewayUrl,
        d,
      ]),
      [
        '10,000 _entities representations (organizations subgraph)',
        system.subgraphUrls.organizations,
        {
          query: ENTITIES_QUERY,
          variables: { representations: representations(10_000) },
          code: 'QUERY_TOO_COMPLEX',
        },
      ],
    ];
    console.log(`\nRefusal times, ${runs} runs each after 3 warm-up runs; node ${process.version}`);
    console.log(
      `${'document'.padEnd(62)} ${'bytes'.padStart(8)} ${'p50 ms'.padStart(8)} ${'max ms'.padStart(8)}  code`,
    );
    for (const [name, url, doc] of cases) {
      for (let i = 0; i < 3; i++) await send(url, doc);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await send(url, doc));
      times.sort((a, b) => a - b);
      const bytes = JSON.stringify({ query: doc.query, variables: doc.variables }).length;
      console.log(
        `${name.padEnd(62)} ${String(bytes).padStart(8)} ${times[Math.floor((runs - 1) / 2)].toFixed(1).padStart(8)} ${times[runs - 1].toFixed(1).padStart(8)}  ${doc.code}`,
      );
    }
  } finally {
    await system.stop();
  }
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
timeRefusals(Number(values.runs)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
