import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The architecture's boundaries are a lint rule (eslint.config.mjs, import-x/no-restricted-paths): a subgraph
 * never imports another or the gateway, the gateway never imports a subgraph (only the catalog), common/
 * imports none of them. Each fixture in test/fixtures/boundaries is linted by the real ESLint as if it stood
 * at the path its first line names, and must be refused or allowed as its second line says.
 */
const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'test', 'fixtures', 'boundaries');

interface Fixture {
  name: string;
  as: string;
  expect: 'refused' | 'allowed';
  code: string;
}

const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.fixture'))
  .sort()
  .map((name) => {
    const code = readFileSync(join(DIR, name), 'utf8');
    const as = /^\/\/ as: (\S+)$/m.exec(code)?.[1];
    const expect = /^\/\/ expect: (refused|allowed)$/m.exec(code)?.[1] as Fixture['expect'] | undefined;
    if (!as || !expect)
      throw new Error(`${name}: needs "// as: <path>" and "// expect: refused|allowed" lines`);
    return { name, as, expect, code };
  });

/** Lints every fixture in one ESLint process (the config is ESM; jest runs CommonJS). */
function lintAll(): Record<string, { ruleId: string | null; message: string }[]> {
  const script = `
    import { ESLint } from 'eslint';
    const fixtures = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = {};
    for (const f of fixtures) {
      const [r] = await eslint.lintText(f.code, { filePath: f.as });
      out[f.name] = r.messages.map((m) => ({ ruleId: m.ruleId, message: m.message }));
    }
    process.stdout.write(JSON.stringify(out));`;
  const json = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(fixtures)],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return JSON.parse(json);
}

describe('import boundaries (lint rule)', () => {
  let results: ReturnType<typeof lintAll>;
  beforeAll(() => {
    results = lintAll();
  }, 60000);

  it('has fixtures of both outcomes', () => {
    expect(fixtures.filter((f) => f.expect === 'refused').length).toBeGreaterThanOrEqual(5);
    expect(fixtures.filter((f) => f.expect === 'allowed').length).toBeGreaterThanOrEqual(2);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const boundary = results[f.name].filter((m) => m.ruleId === 'import-x/no-restricted-paths');
    const other = results[f.name].filter((m) => m.ruleId !== 'import-x/no-restricted-paths');
    expect(other).toEqual([]);
    if (f.expect === 'allowed') expect(boundary).toEqual([]);
    else expect(boundary.map((m) => m.message)).toEqual([expect.stringMatching(/may not import/)]);
  });
});
