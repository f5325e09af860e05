import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate, type OperationDefinitionNode } from 'graphql';
import { EXPLORER_EXAMPLES, renderExplorer } from '@civic/gateway/landing-page';

/** The options object the page hands to GraphiQL, read back out of the inline script. */
function inlineOptions(html: string): Record<string, unknown> {
  const m = /renderYogaGraphiQL\(\s*window\.document\.querySelector\('#root'\),\s*(\{.*\}),\s*\);/s.exec(
    html,
  );
  if (!m) throw new Error('no renderYogaGraphiQL(...) call with inline options in the page');
  return JSON.parse(m[1]) as Record<string, unknown>;
}

describe('renderExplorer', () => {
  const html = renderExplorer({ endpoint: '/graphql' });

  it('is an HTML page titled for Civic Graph', () => {
    expect(html).toMatch(/^\s*<!doctype html>/i);
    expect(html).toContain('<title>Civic Graph explorer</title>');
  });

  it('sends operations to the endpoint it was given', () => {
    expect(inlineOptions(html).endpoint).toBe('/graphql');
    const absolute = renderExplorer({ endpoint: 'https://civic.example.org/graphql' });
    expect(inlineOptions(absolute).endpoint).toBe('https://civic.example.org/graphql');
  });

  it('opens with one tab per example operation, and all of them as the default query', () => {
    const opts = inlineOptions(html);
    const names = ['MoroccoCommitments', 'BouAradaBudget2018', 'ElKef'];
    for (const name of names) expect(html).toContain(`query ${name} {`);
    const tabs = opts.defaultTabs as { query: string }[];
    expect(tabs.map((t) => operationNames(t.query))).toEqual(names.map((n) => [n]));
    expect(operationNames(opts.defaultQuery as string)).toEqual(names);
    expect(EXPLORER_EXAMPLES.map((e) => e.name)).toEqual(names);
    // Each opens with the comment saying what it shows, flush left as a person would type it.
    for (const e of EXPLORER_EXAMPLES) expect(e.query).toMatch(/^# \S.*\nquery \w+ \{\n  \w/);
  });

  it('offers only operations the composed supergraph accepts', () => {
    // The supergraph SDL declares its own join__/link__ directives, so graphql-js can build it as is.
    const supergraph = buildSchema(
      readFileSync(join(__dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8'),
    );
    for (const example of EXPLORER_EXAMPLES) {
      const errors = validate(supergraph, parse(example.query)).map((e) => e.message);
      expect({ example: example.name, errors }).toEqual({ example: example.name, errors: [] });
    }
  });

  it('loads nothing from the network: no external script, style sheet or icon', () => {
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*\shref=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<script src="http/i);
    expect(html).not.toMatch(/<link href="http/i);
    expect(html).not.toMatch(/@import\s+(url\()?["']?https?:/i);
    expect(html).not.toMatch(/\burl\(\s*["']?https?:/i);
    // The usual CDNs, anywhere in the page (a runtime loader could point at one without a tag).
    expect(html).not.toMatch(/jsdelivr|unpkg\.com|cdnjs|esm\.sh|fonts\.googleapis|gstatic\.com/i);
    // The editor's workers are inlined as blobs, not fetched.
    expect(html).toContain('URL.createObjectURL');
  });

  it('cannot be broken out of by an endpoint that closes the script', () => {
    const hostile = renderExplorer({ endpoint: '/graphql?</script><script>alert(1)</script>' });
    expect(hostile).not.toContain('</script><script>alert(1)');
    expect(inlineOptions(hostile).endpoint).toBe('/graphql?</script><script>alert(1)</script>');
  });
});

function operationNames(document: string): string[] {
  return parse(document).definitions.map((d) => (d as OperationDefinitionNode).name?.value ?? '');
}
