import { entityDocuments } from '@civic/common/search';
import type { ActionPlan } from './entities/ActionPlan';
import type { Commitment } from './entities/Commitment';

/*
 * What this subgraph indexes for full-text search (common/src/search/), and how its lists search it.
 * Indexing (the seed, the synthetic generator, the migration's backfill) and highlighting read the same
 * fields, so a commitment found by a search always has a highlight.
 */

/** The entity types of this subgraph in `search_documents`. */
export const COMMITMENT_SEARCH_TYPE = 'Commitment';
export const ACTION_PLAN_SEARCH_TYPE = 'ActionPlan';

/**
 * How much a word counts towards relevance by field: titles first, then the theme, then the long
 * description (whose many words would otherwise outweigh a title). Membership does not depend on it.
 */
export const COMMITMENT_SEARCH_WEIGHTS: Readonly<Record<string, number>> = {
  title: 3,
  titleFr: 3,
  titleEn: 3,
  titleAr: 3,
  titleEs: 3,
  shortTitle: 3,
  theme: 2,
  description: 1,
};

type CommitmentText = Pick<
  Commitment,
  'title' | 'titleFr' | 'titleEn' | 'titleAr' | 'titleEs' | 'shortTitle' | 'description' | 'theme'
>;

/**
 * The searchable text of a commitment by field, in highlight order. A title in one language that is the
 * source's title itself (OGP Local: `title` is the French name) is left out, so it neither counts twice
 * towards relevance nor shows twice in the highlights.
 */
export function commitmentSearchText(c: CommitmentText): Record<string, string | null> {
  const other = (t: string | null) => (t && t !== c.title ? t : null);
  return {
    title: c.title,
    titleFr: other(c.titleFr),
    titleEn: other(c.titleEn),
    titleAr: other(c.titleAr),
    titleEs: other(c.titleEs),
    shortTitle: c.shortTitle,
    description: c.description,
    theme: c.theme,
  };
}

/** The searchable text of an action plan: its member's name as the source writes it. */
export function actionPlanSearchText(p: Pick<ActionPlan, 'memberName'>): Record<string, string | null> {
  return { memberName: p.memberName };
}

/** What `indexDocuments` is given for these commitments (every field, so a cleared one leaves the index). */
export const commitmentDocuments = (rows: readonly (CommitmentText & { id: string })[]) =>
  entityDocuments(COMMITMENT_SEARCH_TYPE, rows, commitmentSearchText);

/** What `indexDocuments` is given for these action plans. */
export const actionPlanDocuments = (rows: readonly Pick<ActionPlan, 'id' | 'memberName'>[]) =>
  entityDocuments(ACTION_PLAN_SEARCH_TYPE, rows, actionPlanSearchText);
