import { ENDS_ONLY, SourceAdjustments } from '@civic/common/import/adjust';
import type { ImportIssue } from '@civic/common/import/report';
import type { Language } from '@civic/common/localized';
import { PackageRefused, str, type Json } from './descriptor';
import { MAX_CODE, MAX_LABEL } from './limits';
import { attributesOf, primaryKey, type Attr, type Dimension, type DimensionAttr } from './model';

/*
 * The line code and labels: which classification dimension gives them (functional, else economic, else
 * administrative, else any), the language of each label attribute, and reading both from a row.
 */

/** The classification lines are coded by: its name, the attributes of its code, its label attributes. */
export interface Classification {
  classification: string;
  code: Attr[];
  labels: { attr: Attr; language: Language | null }[];
}

/** Reads an attribute's value from the row at hand (its constant, or its field; '' when absent). */
export type ReadAttr = (a: Attr) => string;
/** An issue about the row at hand, in the resource it comes from. */
export type IssueAt = (column: string | null, value: unknown, reason: string) => ImportIssue;

const ARABIC = /[\u0600-\u06ff]/;
/** The language a label attribute's name ends with: `label_fr`, `title-ar`, `labelEn`. */
const LANGUAGE_SUFFIX = /(?:[_\-\s.]|(?<=[a-z]))(ar|fr|en|es)$/i;

/**
 * How much a dimension is preferred as the line code: 0 functional (COFOG), 1 economic, 2 administrative,
 * 3 another classification, -1 not a classification. Functional codes compare across budgets best.
 */
function rank(key: string, d: Json): number {
  const type = str(d.dimensionType)?.toLowerCase();
  const cls = str(d.classificationType)?.toLowerCase();
  if (type !== 'classification' && !cls && key.toLowerCase() !== 'cofog') return -1;
  if (cls === 'functional' || (!cls && key.toLowerCase() === 'cofog')) return 0;
  if (cls === 'economic') return 1;
  if (cls === 'administrative') return 2;
  return 3;
}

/** The one classification dimension lines are coded by; the others are named in a warning. */
function chooseClassification(
  dimensions: readonly Dimension[],
  warnings: string[],
): { key: string; d: Json } {
  const classified = dimensions
    .map(([key, d]) => ({ key, d, rank: rank(key, d) }))
    .filter((c) => c.rank >= 0)
    .sort((a, b) => a.rank - b.rank);
  if (!classified.length)
    throw new PackageRefused(
      'model.dimensions',
      null,
      'no classification dimension (dimensionType "classification"): a line\'s code comes from one',
    );
  const chosen = classified[0];
  if (classified.length > 1)
    warnings.push(
      `line codes come from the ${chosen.key} classification; ${classified
        .slice(1)
        .map((c) => c.key)
        .join(', ')} not used`,
    );
  if (chosen.key.length > MAX_CODE)
    throw new PackageRefused(
      `model.dimensions.${chosen.key}`,
      chosen.key,
      `a classification name has at most ${MAX_CODE} characters`,
    );
  return chosen;
}

/**
 * The classification of a package's lines: the chosen dimension, its primaryKey attributes (the code, their
 * values joined by dots) and the attributes labelling the last of them, one per language. Warnings (a
 * classification not used, a second label in a language, a label without a language) go to `warnings`.
 */
export function readClassification(
  dimensions: readonly Dimension[],
  resourceNames: ReadonlySet<string>,
  packageLanguage: Language | null,
  warnings: string[],
): Classification {
  const chosen = chooseClassification(dimensions, warnings);
  const attrs = attributesOf(chosen.key, chosen.d, resourceNames);
  const pk = primaryKey(chosen.key, chosen.d, attrs);
  const code = pk.map((k) => attrs.find((a) => a.key === k)!);
  const labels = labelAttributes(attrs, pk[pk.length - 1], packageLanguage, warnings);
  return { classification: chosen.key, code, labels };
}

/** The attributes labelling `last`, each with the language its name ends with, else the package's. */
function labelAttributes(
  attrs: readonly DimensionAttr[],
  last: string,
  packageLanguage: Language | null,
  warnings: string[],
): Classification['labels'] {
  const labels: Classification['labels'] = [];
  for (const a of attrs) {
    if (a.labelfor !== last) continue;
    const suffix = LANGUAGE_SUFFIX.exec(a.key);
    const language = (suffix ? (suffix[1].toLowerCase() as Language) : null) ?? packageLanguage;
    if (language && labels.some((l) => l.language === language)) {
      warnings.push(`attribute ${a.key} is a second ${language} label for ${last}: not read`);
      continue;
    }
    labels.push({ attr: a, language });
  }
  if (labels.some((l) => l.language === null))
    warnings.push(
      'a label attribute has no language (no _ar/_fr/_en/_es suffix, no package "language"): Arabic text is stored as Arabic, other text as English',
    );
  return labels;
}

/** A row's line code: its code attributes' values joined by dots; each must be given. Problems are pushed. */
export function lineCode(
  cls: Classification,
  read: ReadAttr,
  issue: IssueAt,
  problems: ImportIssue[],
): string {
  const parts: string[] = [];
  for (const a of cls.code) {
    const v = read(a).trim();
    if (!v)
      problems.push(
        issue(
          a.source,
          read(a),
          `missing code: ${a.key} is empty (the line code is ${cls.code.map((c) => c.key).join('.')})`,
        ),
      );
    parts.push(v);
  }
  const code = parts.join('.');
  if (code.length > MAX_CODE)
    problems.push(
      issue(cls.code[cls.code.length - 1].source, code, `a code has at most ${MAX_CODE} characters`),
    );
  return code;
}

/**
 * A row's labels by language, the first non-empty one of each, their ends trimmed (a trimmed label is recorded
 * in `adjustments`, with its cell). A label without a language is Arabic when it has Arabic letters, else
 * English (the package was warned about). Problems are pushed.
 */
export function lineLabels(
  cls: Classification,
  read: ReadAttr,
  issue: IssueAt,
  problems: ImportIssue[],
  adjustments: SourceAdjustments = new SourceAdjustments(),
): Partial<Record<Language, string>> {
  const labels: Partial<Record<Language, string>> = {};
  for (const { attr, language } of cls.labels) {
    const raw = read(attr);
    const v = raw.trim();
    if (!v) continue;
    if (v.length > MAX_LABEL) {
      problems.push(issue(attr.source, raw, `a label has at most ${MAX_LABEL} characters`));
      continue;
    }
    const lang = language ?? (ARABIC.test(v) ? 'ar' : 'en');
    if (labels[lang] !== undefined) continue;
    labels[lang] = adjustments.cleanText(raw, attr.source ?? attr.key, `labels.${lang}`, ENDS_ONLY)!;
  }
  return labels;
}
