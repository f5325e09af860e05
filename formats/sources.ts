import { DATASETS_DIR, datasetPath } from '@civic/common/import/bundled';

export { DATASETS_DIR, datasetPath };

/** A published dataset: what every record loaded from it cites as its source. */
export interface DatasetSource {
  /** Short name shown as Provenance.dataset. */
  dataset: string;
  /** Where the original is published. */
  url: string;
  license: string | null;
  /** The file inside data/datasets. */
  file: string;
}

/** Every dataset the seed loads, with its provenance (from data/datasets/README.md). */
export const SOURCES = {
  ogpCommitments: {
    dataset: 'OGP commitments export',
    url: 'https://github.com/g0v/ogp-commitments/blob/2895b3e/open_parliament_0703.csv',
    license: 'CC BY 4.0 (OGP material; no licence file in the source repository)',
    file: 'ogp/ogp-commitments-export.csv',
  },
  ogpLocal: {
    dataset: 'OGP Local members (Béni Mellal-Khénifra, El Kef)',
    url: 'https://www.opengovpartnership.org/fr/stories/local-collaboration-and-implementation-in-tunisia-and-morocco/',
    license: 'CC BY 4.0',
    file: 'ogp-local/ogp-local-members.json',
  },
  moroccoRegions: {
    dataset: 'Moroccan administrative divisions: regions',
    url: 'https://github.com/mahdiboughrous/moroccan-administrative-division-data/blob/6f017e7/data/regions.json',
    license: 'MIT',
    file: 'morocco/regions.json',
  },
  moroccoDivisions: {
    dataset: 'Moroccan administrative divisions: provinces and prefectures',
    url: 'https://github.com/mahdiboughrous/moroccan-administrative-division-data/blob/6f017e7/data/region-divisions.json',
    license: 'MIT',
    file: 'morocco/region-divisions.json',
  },
  moroccoCommunes: {
    dataset: 'Moroccan administrative divisions: communes',
    url: 'https://github.com/mahdiboughrous/moroccan-administrative-division-data/blob/6f017e7/data/communes.json',
    license: 'MIT',
    file: 'morocco/communes.json',
  },
  tunisiaMunicipalities: {
    dataset: 'Tunisian municipalities',
    url: 'https://github.com/Onshor/ODMunicipalityTools/blob/9dae3d1/municipal_app/clean_mun_final.csv',
    license: null,
    file: 'tunisia/municipalities.csv',
  },
  tunisiaBudget: {
    dataset: 'Bou Arada municipal budget 2013-2018',
    url: 'https://github.com/Onshor/ODMunicipalityTools/tree/7002a09/municipal_app/project/static/files',
    license: null,
    file: 'tunisia',
  },
  cofog: {
    dataset: 'UN Classification of the Functions of Government (COFOG)',
    url: 'https://github.com/datasets/cofog/blob/093c314/data/cofog.csv',
    license: 'PDDL',
    file: 'cofog/cofog.csv',
  },
} as const satisfies Record<string, DatasetSource>;

export type SourceKey = keyof typeof SOURCES;
