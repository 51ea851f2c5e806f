/**
 * Company names as account keys. People type one company's name in many
 * ways ("Acme Inc.", "ACME, Inc", "acme inc"), so a `company:` account is
 * named by a key that these spellings share.
 */

/**
 * Legal forms dropped from the end of a name, as normalized words.
 * Spaced initials ("s a") are the normalized form of "S. A.".
 */
const LEGAL_FORMS: readonly string[] = [
  // English-speaking countries, India and South-East Asia.
  'inc',
  'incorporated',
  'corp',
  'corporation',
  'co',
  'company',
  'and co',
  'and company',
  'co inc',
  'co ltd',
  'co limited',
  'company limited',
  'public company limited',
  'public limited company',
  'llc',
  'l l c',
  'pllc',
  'llp',
  'lp',
  'ltd',
  'limited',
  'plc',
  'pty',
  'pty ltd',
  'pty limited',
  'pte ltd',
  'pvt ltd',
  'private limited',
  'sdn bhd',
  'bhd',
  'tbk',
  // German-speaking countries.
  'ag',
  'a g',
  'gmbh',
  'mbh',
  'gmbh co kg',
  'gmbh co kgaa',
  'ag co kg',
  'se co kg',
  'kg',
  'kgaa',
  'ohg',
  'ek',
  'ug',
  'ug haftungsbeschränkt',
  // The European company.
  'se',
  // France, Belgium, Spain, Portugal, Italy and Latin America.
  'sa',
  's a',
  'sas',
  'sasu',
  'sarl',
  'eurl',
  'sca',
  'snc',
  'sl',
  'slu',
  'sa de cv',
  'sab de cv',
  'sapi de cv',
  's de rl',
  's de rl de cv',
  'ltda',
  'lda',
  'eireli',
  'spa',
  's p a',
  'srl',
  'srls',
  'sapa',
  // The Netherlands and Belgium.
  'bv',
  'b v',
  'nv',
  'n v',
  'bvba',
  'vof',
  // Nordic countries.
  'ab',
  'ab publ',
  'as',
  'a s',
  'asa',
  'aps',
  'oy',
  'oyj',
  'hf',
  'ehf',
  // Central Europe.
  'sp z oo',
  'sro',
  // Japan.
  'kk',
  'gk',
  'yk',
  'kabushiki kaisha',
  'kabushiki gaisha',
  'godo kaisha',
  'yugen kaisha',
];

/**
 * Chinese and Japanese legal forms, also dropped from the end of the last
 * word because these scripts write no space before them. Longest first.
 */
const ATTACHED_LEGAL_FORMS: readonly string[] = [
  '股份有限公司',
  '有限公司',
  '株式会社',
  '有限会社',
  '合同会社',
];

/** Legal forms, as word lists, longest first. */
const LEGAL_FORM_WORDS: ReadonlyArray<readonly string[]> = [
  ...LEGAL_FORMS,
  ...ATTACHED_LEGAL_FORMS,
  // NFKC spells ㈱ as (株).
  '株',
]
  .map((form) => form.split(' '))
  .sort((a, b) => b.length - a.length);

/** Words that do not name a company on their own ("The Limited"). */
const ARTICLES = new Set(['the', 'a', 'an']);

/**
 * Normalizes a company name into the key of its account: Unicode NFKC,
 * case folded, punctuation and symbols removed, whitespace trimmed and
 * collapsed, then trailing legal forms dropped ("ACME, Inc." becomes
 * "acme"). A legal form is dropped only as the last word or words and
 * only while a name other than an article remains, so "AG Barr" stays
 * "ag barr" and "Company" stays "company". Returns an empty string for a
 * name of only punctuation, symbols and spaces. Applying it to its own
 * result returns that result.
 */
export function normalizeCompanyName(name: string): string {
  return dropLegalForms(wordsOf(name)).join(' ');
}

/** Splits a name into normalized words. */
function wordsOf(name: string): string[] {
  // NFKC would spell these marks as the letters "TM" and "SM".
  const unmarked = name.replace(/[™℠®©]/gu, ' ');
  const folded = foldCase(unmarked.normalize('NFKC')).normalize('NFKC');
  return (
    folded
      // Dashes, brackets, underscores, commas, semicolons and colons
      // separate words: "Coca-Cola" and "Coca Cola" are one name.
      .replace(/[\p{Pd}\p{Ps}\p{Pe}\p{Pc},;:]/gu, ' ')
      // Periods, apostrophes, slashes, "&" and other marks join up
      // abbreviations: "S.A." is "sa", "A/S" is "as".
      .replace(/[\p{P}\p{S}\p{Cc}\p{Cf}]/gu, '')
      .split(/\s+/u)
      .filter((word) => word !== '')
  );
}

/**
 * Folds case through lower, upper and lower case again, so that ß and ẞ
 * become "ss" and final sigma becomes σ. With NFKC before and after, it
 * groups each character of Unicode 14 as full case folding with NFKC
 * does (compared with Python 3.11's str.casefold). The dotless ı stays
 * as case folding keeps it, although its upper case is I.
 */
function foldCase(text: string): string {
  return text
    .split('ı')
    .map((part) => part.toLowerCase().toUpperCase().toLowerCase())
    .join('ı')
    .replace(/ς/gu, 'σ');
}

/**
 * Drops trailing legal forms, the longest first, while a name other than
 * an article remains.
 */
function dropLegalForms(words: readonly string[]): string[] {
  let remaining = [...words];
  for (;;) {
    const next = withoutLegalForm(remaining);
    if (next === undefined) return remaining;
    remaining = next;
  }
}

function withoutLegalForm(words: readonly string[]): string[] | undefined {
  for (const form of LEGAL_FORM_WORDS) {
    if (form.length >= words.length) continue;
    const start = words.length - form.length;
    const rest = words.slice(0, start);
    if (
      form.every((word, i) => words[start + i] === word) &&
      namesCompany(rest)
    ) {
      return rest;
    }
  }
  const last = words.at(-1) ?? '';
  for (const form of ATTACHED_LEGAL_FORMS) {
    if (last.length <= form.length || !last.endsWith(form)) continue;
    return [...words.slice(0, -1), last.slice(0, -form.length)];
  }
  return undefined;
}

function namesCompany(words: readonly string[]): boolean {
  return words.some((word) => !ARTICLES.has(word));
}
