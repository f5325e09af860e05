#!/usr/bin/env node
// `npx civic-import <kind> <path> [options]`: the same as `npm run import -- ...` (scripts/import.ts, run
// through tsx so the TypeScript sources need no build step).
require('tsx/cjs');
require('../scripts/import.ts');
