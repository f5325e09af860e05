import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runImport } from '@civic/common/import/pipeline';
import type { ImportReport } from '@civic/common/import/report';
import { SOURCES, datasetPath } from '@civic/formats/sources';
import { importers as budgetsImporters } from '@civic/subgraphs/budgets/src/import';
import { sumMillimes, tnBudgetCode } from '../support/datasets';
import { BACKENDS, systemsPerBackend, type System } from '../support/system';

// What the importers load is what the graph serves: totals, labels, search and provenance, through the
// gateway of a running system (seeded with the real datasets, as `npm start` does).

const FDP = join(__dirname, '..', 'fixtures', 'import', 'fiscal-data-package');
const FDP_BUDGET = 'fdp-bou-arada-2018-approved-expenditure-2018';
const PER_YEAR = join(datasetPath(SOURCES.tunisiaBudget.file), 'depense_per_year_34012.csv');
const perYear = parse(readFileSync(PER_YEAR, 'utf8'), { columns: true, bom: true }) as Record<
  string,
  string
>[];

function importInto(sys: System, kind: string, path: string): Promise<ImportReport> {
  const importer = budgetsImporters.find((i) => i.kind === kind)!;
  return runImport(kind, path, [{ part: importer.part({}), ds: sys.dataSources.budgets }], {
    strict: false,
    dryRun: false,
    prune: false,
    batchSize: 2000,
    params: {},
  });
}

const systemOf = systemsPerBackend();

describe.each(BACKENDS)('imported budgets through the gateway on %s', (backend) => {
  let sys: System;
  const reports: Record<string, ImportReport> = {};
  beforeAll(async () => {
    sys = systemOf(backend);
    reports.bouArada = await importInto(sys, 'fiscal-data-package', join(FDP, 'bou-arada-2018'));
    reports.cofog = await importInto(sys, 'fiscal-data-package', join(FDP, 'cofog-sample'));
    reports.perYear = await importInto(sys, 'tn-municipal-budget', PER_YEAR);
  });

  it('sums the Fiscal Data Package to the real Bou Arada total', async () => {
    expect(reports.bouArada.outcome).toBe('loaded');
    const res = await sys.queryGateway(
      /* GraphQL */ `
        query ($budget: ID!) {
          budgetSummary(filter: { budgetId: $budget }, groupBy: [DIRECTION]) {
            currency
            lineCount
            totals {
              phase
              amount {
                amount
              }
            }
          }
          budget(id: $budget) {
            fiscalYear
            organization {
              id
              names {
                ar
              }
            }
            approved: total(direction: EXPENDITURE, phase: APPROVED) {
              amount
              currency
            }
          }
        }
      `,
      { budget: FDP_BUDGET },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      budgetSummary: [
        {
          currency: 'TND',
          lineCount: 98,
          totals: [{ phase: 'APPROVED', amount: { amount: '1437803.283' } }],
        },
      ],
      budget: {
        fiscalYear: 2018,
        organization: { id: 'tn-municipality-34012', names: { ar: expect.any(String) } },
        approved: { amount: sumMillimes(perYear.map((r) => r['2018'])), currency: 'TND' },
      },
    });
  });

  it('serves an imported line with its label, classification and provenance', async () => {
    const res = await sys.queryGateway(
      /* GraphQL */ `
        query ($id: ID!) {
          budgetLine(id: $id) {
            code
            labels {
              ar
            }
            classification
            amounts {
              phase
              amount {
                amount
                currency
              }
            }
            source {
              dataset
              url
              record
              file
              checksum
              line
              importedAt
            }
          }
        }
      `,
      { id: `${FDP_BUDGET}-EXP-1.01101.0004.000` },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.budgetLine).toEqual({
      code: '1.01101.0004.000',
      labels: { ar: 'منحة الخصوصية المتغيرة' },
      classification: 'tn-municipal-budget-nomenclature',
      amounts: [{ phase: 'APPROVED', amount: { amount: '300.000', currency: 'TND' } }],
      source: {
        dataset: 'Bou Arada municipal budget 2018: approved expenditure (Fiscal Data Package)',
        url: 'https://github.com/Onshor/ODMunicipalityTools/tree/7002a09/municipal_app/project/static/files',
        record: 'expenditure.csv:line 5',
        file: join(FDP, 'bou-arada-2018'),
        checksum: reports.bouArada.checksum,
        line: 5,
        importedAt: reports.bouArada.startedAt,
      },
    });
  });

  it('finds imported lines by a word of their labels, in any of their languages', async () => {
    const res = await sys.queryGateway(/* GraphQL */ `
      {
        fr: budgetLines(filter: { search: "hospitaliers" }) {
          nodes {
            id
          }
        }
        es: budgetLines(filter: { search: "hospitalarios generales" }) {
          nodes {
            id
            label(lang: EN)
          }
        }
      }
    `);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      fr: { nodes: [{ id: 'fdp-cofog-sample-2021-EXP-07.3.1' }] },
      es: { nodes: [{ id: 'fdp-cofog-sample-2021-EXP-07.3.1', label: 'General hospital services  (IS)' }] },
    });
  });

  it('keeps the seeded budget whole when the real file is imported over it, citing the file and line', async () => {
    expect(reports.perYear.outcome).toBe('loaded');
    expect(reports.perYear.parts[0].tables.budget_lines.inserted).toBe(0);
    const code = tnBudgetCode(perYear[0]);
    const res = await sys.queryGateway(
      /* GraphQL */ `
        query ($line: ID!) {
          budget(id: "tn-34012-2018") {
            approved: total(direction: EXPENDITURE, phase: APPROVED) {
              amount
            }
            executed: total(direction: EXPENDITURE, phase: EXECUTED) {
              amount
            }
          }
          budgetLine(id: $line) {
            source {
              dataset
              record
              file
              checksum
              line
            }
          }
        }
      `,
      { line: `tn-34012-2018-EXP-${code}` },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      budget: {
        approved: { amount: '1437803.283' },
        executed: { amount: expect.stringMatching(/^\d+\.\d{3}$/) },
      },
      budgetLine: {
        source: {
          dataset: SOURCES.tunisiaBudget.dataset,
          record: 'depense_per_year_34012.csv:line 2',
          // The seed imported this very file: the line is unchanged, and cites it as the seed does.
          file: 'data/datasets/tunisia/depense_per_year_34012.csv',
          checksum: createHash('sha256').update(readFileSync(PER_YEAR)).digest('hex'),
          line: 2,
        },
      },
    });
  });
});
