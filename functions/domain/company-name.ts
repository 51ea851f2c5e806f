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
  // "&" reads as "and", and "GmbH + Co. KG" drops the "+".
  'gmbh and co kg',
  'gmbh co kg',
  'gmbh and co kgaa',
  'gmbh co kgaa',
  'ag and co kg',
  'ag co kg',
  'se and co kg',
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
  // Türkiye.
  'aş',
  'a ş',
  'ltd şti',
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
 * word because these scripts write no space before them. Sorted from the
 * longest form to the shortest.
 */
const ATTACHED_LEGAL_FORMS: readonly string[] = [
  '股份有限公司',
  '有限公司',
  '株式会社',
  '有限会社',
  '合同会社',
];

/**
 * Japanese legal forms also dropped from the start of a name
 * ("株式会社トヨタ"), as a word or attached to the first word.
 */
const LEADING_LEGAL_FORMS: readonly string[] = [
  '株式会社',
  '有限会社',
  '合同会社',
];

/**
 * Japanese legal forms dropped as a whole word at either end. NFKC spells
 * ㈱ as (株) and ㈲ as (有), and brackets separate words.
 */
const BRACKETED_LEGAL_FORMS: readonly string[] = ['株', '有'];

/**
 * Legal forms that are also words, dropped only when a name writes them
 * in their legal spelling. Each maps to a test of the word or words as
 * written after NFKC, with their periods and slashes.
 */
const SPELLED_LEGAL_FORMS: ReadonlyMap<string, LegalSpelling> = new Map([
  // "Day Spa" and "Simple As" end in English words, also in names
  // written in capitals, so capitals count only in a mixed-case name.
  [
    'spa',
    (spelling, name) =>
      hasInnerPeriodOrSlash(spelling) ||
      spelling.replace(/\.$/u, '') === 'SpA' ||
      capitalsInMixedCase(spelling, name),
  ],
  [
    'as',
    (spelling, name) =>
      hasInnerPeriodOrSlash(spelling) || capitalsInMixedCase(spelling, name),
  ],
  // "Premier Ag" (agriculture), "Core Ab", "5 kg", "Aps" (apps) and
  // "Asa" (a given name).
  [
    'asa',
    (spelling) => hasInnerPeriodOrSlash(spelling) || isCapitals(spelling),
  ],
  ['ag', (spelling) => hasInnerPeriodOrSlash(spelling) || isCapitals(spelling)],
  ['ab', (spelling) => hasInnerPeriodOrSlash(spelling) || isCapitals(spelling)],
  ['kg', (spelling) => hasInnerPeriodOrSlash(spelling) || isCapitals(spelling)],
  [
    'aps',
    (spelling) =>
      hasInnerPeriodOrSlash(spelling) ||
      spelling.replace(/\.$/u, '') === 'ApS' ||
      isCapitals(spelling),
  ],
]);

/** Tells whether a word as written is a legal form's legal spelling. */
type LegalSpelling = (spelling: string, name: readonly Word[]) => boolean;

/** Tells whether a period or slash separates letters ("S.p.A", "A/S"). */
function hasInnerPeriodOrSlash(spelling: string): boolean {
  return /\p{L}[./]\p{L}/u.test(spelling);
}

function isCapitals(spelling: string): boolean {
  return /\p{Lu}/u.test(spelling) && !/\p{Ll}/u.test(spelling);
}

function capitalsInMixedCase(spelling: string, name: readonly Word[]) {
  return (
    isCapitals(spelling) && name.some((word) => /\p{Ll}/u.test(word.spelling))
  );
}

/** Legal forms, as word lists, longest first. */
const LEGAL_FORM_WORDS: ReadonlyArray<readonly string[]> = [
  ...LEGAL_FORMS,
  ...ATTACHED_LEGAL_FORMS,
  ...BRACKETED_LEGAL_FORMS,
]
  .map((form) => form.split(' '))
  .sort((a, b) => b.length - a.length);

/** Words that do not name a company on their own ("The Limited"). */
const ARTICLES = new Set(['the', 'a', 'an']);

/** A word of a name: its key and its spelling after NFKC. */
interface Word {
  key: string;
  spelling: string;
}

/**
 * Normalizes a company name into the key of its account. It applies
 * Unicode NFKC, removes variation selectors and enclosing marks, reads
 * "&" as "and", folds case with İ as i, removes punctuation and symbols
 * with the marks on them, and trims and collapses whitespace. Then it
 * drops legal forms ("ACME, Inc." becomes "acme"). A legal form is
 * dropped only as the last word or words, or for Japanese forms also the
 * first, and only while a name other than an article remains, so
 * "AG Barr" stays "ag barr" and "Company" stays "company". A legal form
 * that is also a word, such as "spa" or "ag", is dropped only in its
 * legal spelling ("S.p.A.", "AG"), so "Day Spa" stays. Returns an empty
 * string for a name of only punctuation, symbols and spaces. Applying it
 * to its own result returns that result.
 */
export function normalizeCompanyName(name: string): string {
  return dropLeadingLegalForm(dropLegalForms(wordsOf(name))).join(' ');
}

/** Splits a name into words with their keys. */
function wordsOf(name: string): Word[] {
  // NFKC would spell these marks as the letters "TM" and "SM".
  const unmarked = name.replace(/[™℠®©]/gu, ' ');
  return (
    unmarked
      .normalize('NFKC')
      // Variation selectors and enclosing marks such as the keycap
      // U+20E3 only change how a character looks.
      .replace(/[\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}\p{Me}]/gu, '')
      // Marks on a symbol, punctuation or space go with it, and marks on
      // letters and digits stay.
      .replace(/(?<=^|[\s\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}])\p{M}+/gu, '')
      .replace(/&/gu, ' and ')
      // Dashes, brackets, underscores, commas, semicolons and colons
      // separate words: "Coca-Cola" and "Coca Cola" are one name.
      .replace(/[\p{Pd}\p{Ps}\p{Pe}\p{Pc},;:]/gu, ' ')
      .split(/\s+/u)
      .map((spelling) => ({ spelling, key: keyOf(spelling) }))
      .filter((word) => word.key !== '')
  );
}

/**
 * Returns the key of one word: case folded, without periods,
 * apostrophes, slashes and other marks, which join up abbreviations
 * ("S.A." is "sa", "A/S" is "as").
 */
function keyOf(spelling: string): string {
  return foldCase(spelling)
    .normalize('NFKC')
    .replace(/[\p{P}\p{S}\p{Cc}\p{Cf}]/gu, '');
}

/**
 * Folds case through lower, upper and lower case again, so that ß and ẞ
 * become "ss" and final sigma becomes σ. With NFKC before and after, it
 * groups each character of Unicode 14 as full case folding with NFKC
 * does (compared with Python 3.11's str.casefold). The dotted İ and the
 * "i" with a combining dot that lower case makes of it fold to "i", as
 * I does. The dotless ı stays as case folding keeps it, although its
 * upper case is I.
 */
function foldCase(text: string): string {
  return text
    .replace(/İ/gu, 'i')
    .split('ı')
    .map((part) => part.toLowerCase().toUpperCase().toLowerCase())
    .join('ı')
    .replace(/ς/gu, 'σ')
    .replace(/i\u0307/gu, 'i');
}

/**
 * Drops trailing legal forms, the longest first, while a name other than
 * an article remains.
 */
function dropLegalForms(words: readonly Word[]): string[] {
  let remaining = words.map((word) => word.key);
  for (;;) {
    const next = withoutLegalForm(remaining, words);
    if (next === undefined) return remaining;
    remaining = next;
  }
}

/**
 * Returns the keys without their last legal form, or undefined when they
 * end in none. `name` is the whole name as written, whose first words
 * are the keys.
 */
function withoutLegalForm(
  keys: readonly string[],
  name: readonly Word[],
): string[] | undefined {
  for (const form of LEGAL_FORM_WORDS) {
    if (form.length >= keys.length) continue;
    const start = keys.length - form.length;
    const rest = keys.slice(0, start);
    if (
      form.every((word, i) => keys[start + i] === word) &&
      namesCompany(rest) &&
      isLegalSpelling(form, name.slice(start, keys.length), name)
    ) {
      return rest;
    }
  }
  const last = keys.at(-1) ?? '';
  for (const form of ATTACHED_LEGAL_FORMS) {
    if (last.length <= form.length || !last.endsWith(form)) continue;
    return [...keys.slice(0, -1), last.slice(0, -form.length)];
  }
  return undefined;
}

function isLegalSpelling(
  form: readonly string[],
  written: readonly Word[],
  name: readonly Word[],
): boolean {
  const test = SPELLED_LEGAL_FORMS.get(form.join(' '));
  if (test === undefined) return true;
  return test(written.map((word) => word.spelling).join(''), name);
}

/**
 * Drops one Japanese legal form from the start of the keys when a name
 * other than an article remains.
 */
function dropLeadingLegalForm(keys: readonly string[]): string[] {
  const [first = '', ...rest] = keys;
  const isForm =
    LEADING_LEGAL_FORMS.includes(first) ||
    BRACKETED_LEGAL_FORMS.includes(first);
  if (isForm && namesCompany(rest)) return rest;
  for (const form of LEADING_LEGAL_FORMS) {
    if (first.length > form.length && first.startsWith(form)) {
      return [first.slice(form.length), ...rest];
    }
  }
  return [...keys];
}

function namesCompany(words: readonly string[]): boolean {
  return words.some((word) => !ARTICLES.has(word));
}
