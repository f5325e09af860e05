/**
 * The OGP export formats: the OGP commitments export (a CSV of 171 columns: members, institutions, action
 * plans, commitments, IRM assessments) and the OGP Local members file. Pure readers: they read files and
 * return typed values, never touching a database; the organizations and commitments subgraphs' importers
 * build their records from them, so the two agree on every organization id without reading each other's
 * tables. Code that needs only country names imports ./countries, which does not load the parser.
 */
export * from './cells';
export * from './classification';
export * from './columns';
export * from './countries';
export * from './csv';
export * from './dates';
export * from './identifiers';
export * from './institutions';
export * from './issues';
export * from './language';
export * from './local-members';
export * from './members';
export * from './ogp-local';
export * from './row';
export * from './scales';
