import { fold } from './cells';

/* An institution's kind and classification, guessed from its name (the export gives only the name). */

/** Mirrors ORGANIZATION_KINDS of the organizations subgraph. */
export type InstitutionKind =
  'GOVERNMENT' | 'CIVIL_SOCIETY' | 'INTERNATIONAL' | 'PRIVATE' | 'ACADEMIC' | 'OTHER';

/** A guessed kind and classification ("ministry", "parliament", ...) for an institution name. */
export interface InstitutionClass {
  kind: InstitutionKind;
  classification: string | null;
}

/** International bodies by name or acronym; matched before any keyword ("World Bank" is not a private bank). */
const INTERNATIONAL = new RegExp(
  '\\b(?:undp|pnud|world bank|banco mundial|banque mondiale|oecd|ocde|european union|union europea|' +
    'union europeenne|eu|usaid|united states agency for international development|united nations|naciones unidas|nations unies|un-habitat|unicef|unesco|imf|' +
    'international monetary fund|fmi|giz|osce|council of europe|parliamentary assembly of the council of europe|' +
    'pace|international labou?r (?:office|organi[sz]ation)|ilo|national democratic institute|ndi|' +
    'westminster foundation for democracy|wfd|eurosocial|' +
    'parlamericas|hanns seidel|hans seidel|osiwa|sdc|afd|uk aid|international budget partnership|' +
    'world health organi[sz]ation|african development bank|inter-american development bank|idb)\\b',
);

/**
 * Keyword rules, tried in the order the keywords appear in the name: the leftmost keyword is usually the
 * head of the name ("Council for the Development of Civil Society" is a council; "Association of Social
 * Works of the House of Representatives" is an association).
 */
const KIND_RULES: ReadonlyArray<readonly [RegExp, InstitutionKind, string | null]> = [
  [/\bcentral bank|banco central|banque centrale|^bank of\b/, 'GOVERNMENT', 'central bank'],
  [
    /\bchambers? of (?:commerce|industry|economy|mines)|camara de comercio|chambre de commerce/,
    'PRIVATE',
    'chamber of commerce',
  ],
  [
    /\bprivate sector|sector privado|secteur prive|business (?:club|council)|employers/,
    'PRIVATE',
    'private sector',
  ],
  [
    /\b(?:company|companies|corporation|llc|ltd|inc|cjsc|d\.o\.o|d\.d|s\.a|plc|gmbh|empresa)\b/,
    'PRIVATE',
    'company',
  ],
  [/\bbank\b|\bbanco\b|\bbanque\b/, 'PRIVATE', 'bank'],
  [/\buniversit(?:y|ies|e)|universidad|faculty of|facultad de|school of law/, 'ACADEMIC', 'university'],
  [/\bacadem(?:y|ia|ics|ie)|academia\b/, 'ACADEMIC', 'academy'],
  [/\bschools?\b|\bcolleges?\b|\bescuela\b|\becole\b/, 'ACADEMIC', 'school'],
  [
    /\bresearch (?:centre|center|institute)|centro de investigaci|centre de recherche|think tanks?/,
    'ACADEMIC',
    'research centre',
  ],
  [
    /\btransparency international|\bngos?\b|\bongs?\b|non-governmental|non-profit|not-for-profit/,
    'CIVIL_SOCIETY',
    'ngo',
  ],
  [
    /\bcivil society|sociedad civil|societe civile|\bcsos?\b|\bosc\b|third sector/,
    'CIVIL_SOCIETY',
    'civil society organization',
  ],
  [/\bassociations?\b|\basociacion|\bassociacao|\bpublic association/, 'CIVIL_SOCIETY', 'association'],
  [/\bfoundations?\b|\bfundacion|\bfondation|\bstiftung|\btrust\b/, 'CIVIL_SOCIETY', 'foundation'],
  [/\bcoalitions?\b|\bcoalicion|\balliance\b|\balianza\b/, 'CIVIL_SOCIETY', 'coalition'],
  [/\bnetworks?\b|^red\b|\bred de\b|\breseau\b/, 'CIVIL_SOCIETY', 'network'],
  [
    /\btrade unions?|\bsyndicats?\b|\bsindicatos?\b|\bunion of workers|\bunion generale des travailleurs/,
    'CIVIL_SOCIETY',
    'trade union',
  ],
  [/\bministr(?:y|ies)|\bminister\b|\bministerio|\bministere|\bministerial\b/, 'GOVERNMENT', 'ministry'],
  [
    /\bparliaments?\b|\bparlamento|\bparlement\b|\bassembly\b|\basamblea|\bassemblee|\bsenate\b|\bsenado|\bsenat\b|\bcongress\b|\bcongreso|house of representatives|chamber of (?:deputies|senators)|camara de (?:diputad|senador)|\blegislature\b|\bpoder legislativo\b|\bknesset\b|\briigikogu\b|\bjogorku kenesh\b|\bsaeima\b|\bseimas\b|\boireachtas\b|\bdpr ri\b|\bclerk of (?:the )?(?:parliament|house)/,
    'GOVERNMENT',
    'parliament',
  ],
  [
    /\bmunicipalit(?:y|ies)|\bmunicipal\b|\bmunicipalidad|\bmunicipio|\bcity of\b|\bcity council|\bcommunes?\b|\blocal self-government|\blocal government|\bcounty (?:assembl|government)/,
    'GOVERNMENT',
    'municipality',
  ],
  [/\bcourts?\b|\btribunal|\bjuzgados?\b|\bjudiciary\b|\bjudicial\b/, 'GOVERNMENT', 'court'],
  [/\bagency|agencies|\bagencia|\bagence\b/, 'GOVERNMENT', 'agency'],
  [/\bdirectorate|\bdireccion\b|\bdirection\b/, 'GOVERNMENT', 'directorate'],
  [/\bdepartments?\b|\bdepartamento|\bdepartement/, 'GOVERNMENT', 'department'],
  [/\bcommissions?\b|\bcomision|\bcommissioner|\bcomisionado/, 'GOVERNMENT', 'commission'],
  [/\bauthorit(?:y|ies)|\bautoridad|\bautorite/, 'GOVERNMENT', 'authority'],
  [/\bsecretariat|\bsecretaria\b|\bsecretariado|\bsecretary\b|\bsecretaire/, 'GOVERNMENT', 'secretariat'],
  [/\bcouncil\b|\bconsejo\b|\bconseil\b/, 'GOVERNMENT', 'council'],
  [/\bcommittee\b|\bcomite\b/, 'GOVERNMENT', 'committee'],
  [/\boffice\b|\boficina\b|\bbureau\b|\bcabinet\b|\bchancellery\b/, 'GOVERNMENT', 'office'],
  [
    /\bpresidency\b|\bpresidencia\b|\bpresidence\b|\bpresident\b|\bprime minister/,
    'GOVERNMENT',
    'presidency',
  ],
  [
    /\bgovernment\b|\bgobierno\b|\bgouvernement\b|\bpoder ejecutivo\b|\bexecutive\b/,
    'GOVERNMENT',
    'government',
  ],
  [
    /\btreasury\b|\btesoro\b|\binspectorate\b|\bombudsman\b|\bdefensoria\b|\bprocuraduria\b|\bsuperintendencia\b|\battorney|\bauditor|\bcontraloria|\bpolice\b|\bregistr(?:y|ar)\b|\barchives?\b|\bservicom\b|\bstate (?:service|agency|committee|chancellery|archive)/,
    'GOVERNMENT',
    'agency',
  ],
  [/\bunit\b|\bunidad\b|\bservice\b|\bservicio\b/, 'GOVERNMENT', 'agency'],
];

/**
 * Guesses an institution's kind and classification from its name, with keyword rules in English, French
 * and Spanish, ignoring case and accents. International bodies are recognized by name first; then the
 * leftmost keyword found decides. Unknown names are OTHER with no classification.
 */
export function classifyInstitution(name: string): InstitutionClass {
  const f = fold(name);
  // OGP itself, but not a national "Open Government Partnership network" or forum named after it.
  if (INTERNATIONAL.test(f) || /^open government partnership(?: \(ogp\))?$/.test(f))
    return { kind: 'INTERNATIONAL', classification: 'international organization' };
  let best: { at: number; kind: InstitutionKind; classification: string | null } | null = null;
  for (const [re, kind, classification] of KIND_RULES) {
    const m = re.exec(f);
    if (m && (!best || m.index < best.at)) best = { at: m.index, kind, classification };
  }
  return best
    ? { kind: best.kind, classification: best.classification }
    : { kind: 'OTHER', classification: null };
}
