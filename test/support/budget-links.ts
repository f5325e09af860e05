import { CommitmentBudgetLineEntity } from '@civic/subgraphs/budgets/src/entities/Budget';
import type { System } from './system';

/**
 * Links the first `commitments` commitments (by id) to budget lines, so that the relations between them have
 * rows: each commitment to `perCommitment` of the first `lines` lines (by id), taken round robin from its own
 * position on, and so several commitments to each line.
 */
export async function linkCommitmentsToBudgetLines(
  sys: System,
  { commitments, lines, perCommitment = 1 }: { commitments: number; lines: number; perCommitment?: number },
): Promise<void> {
  const ids: { id: string }[] = await sys.dataSources.commitments.query(
    `SELECT id FROM commitments ORDER BY id LIMIT ${commitments}`,
  );
  const lineIds: { id: string }[] = await sys.dataSources.budgets.query(
    `SELECT id FROM budget_lines ORDER BY id LIMIT ${lines}`,
  );
  await sys.dataSources.budgets.getRepository(CommitmentBudgetLineEntity).save(
    ids.flatMap((c, i) =>
      Array.from({ length: perCommitment }, (_, k) => ({
        commitmentId: c.id,
        lineId: lineIds[(i + k) % lineIds.length].id,
        sourceDataset: 'test fixture',
        sourceUrl: null,
        sourceLicense: null,
        sourceRecord: null,
      })),
    ),
  );
}
