/*
 * The sizes of the budgets tables' columns a package's values go into: a longer value is refused with its
 * field named, rather than cut or left to the database to reject the whole batch.
 */

/** Ids: budgets, lines and the organization key (an indexed VARCHAR(191), the utf8mb4 index limit). */
export const MAX_ID = 191;
/** A line's code, and a classification's name. */
export const MAX_CODE = 64;
/** A line's label in one language. */
export const MAX_LABEL = 1024;
/** The `<resource>:line N` a record cites. */
export const MAX_RECORD = 255;
