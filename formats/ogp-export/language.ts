import { fold } from './cells';

/* The language an institution's name is written in, guessed: the export gives names without a language tag. */

const ES_WORDS = new Set(
  (
    'del los las y para por ministerio secretaria direccion comision oficina gobierno asamblea congreso camara ' +
    'fundacion asociacion sociedad organizaciones instituto unidad consejo poder republica nacional publica ' +
    'publico publicos tecnologias informacion acceso defensoria procuraduria superintendencia administracion ' +
    'despacho estado presidencia junta departamental ejecutivo legislativo senadores diputados diputadas ' +
    'juridica ciudadana transparencia integridad etica especial parlamento abierto coordinacion grupo red ' +
    'gestion desarrollo derechos humanos educacion comisiones observatorio'
  ).split(' '),
);
const FR_WORDS = new Set(
  (
    'des du le les et pour ministere direction generale conseil syndicats travailleurs entreprises petites ' +
    'moyennes nationale autorite haute societe civile charge aupres developpement numerique bibliotheque ' +
    'royaume collectivites territoriales partenariat ouvert'
  ).split(' '),
);
const EN_WORDS = new Set(
  'of the and for ministry department office agency committee council parliament government national with in'.split(
    ' ',
  ),
);

/**
 * The language an institution's name is most likely written in: Spanish or French when their function
 * words and institution words outnumber English ones, English otherwise. A simple heuristic: names in
 * other languages (Indonesian, Dutch, Portuguese...) fall back to English, the export's main language.
 */
export function guessNameLanguage(name: string): 'en' | 'fr' | 'es' {
  const words = fold(name)
    .replace(/[’']/g, ' ')
    .split(/[^a-z]+/);
  let es = /[ñáíóú¿¡]/i.test(name) ? 1 : 0;
  let frScore = /[èêëàâçôûœ]/i.test(name) ? 1 : 0;
  let enScore = 0;
  for (const w of words) {
    if (ES_WORDS.has(w)) es++;
    if (FR_WORDS.has(w)) frScore++;
    if (EN_WORDS.has(w)) enScore++;
  }
  if (es > enScore && es > frScore) return 'es';
  if (frScore > enScore && frScore > es) return 'fr';
  return 'en';
}
