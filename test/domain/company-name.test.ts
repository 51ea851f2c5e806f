import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeCompanyName } from '../../functions/domain/company-name.js';

describe('normalizeCompanyName', () => {
  it.each([
    // One company as three form fills spell it.
    ['Acme Inc.', 'acme'],
    ['ACME, Inc', 'acme'],
    ['acme inc', 'acme'],
    ['  Acme \u00a0 Incorporated  ', 'acme'],
    ['Acme Corp.', 'acme'],
    ['ACME CORPORATION', 'acme'],
    ['Acme Co.', 'acme'],
    ['Acme & Co.', 'acme'],
    ['Acme and Company', 'acme'],
    ['Acme™ Inc.', 'acme'],
    ['Ａｃｍｅ　Ｉｎｃ．', 'acme'],
    ['Acme, L.L.C.', 'acme'],
    ['Acme LLC', 'acme'],
    ['Acme Holdings Co., Ltd.', 'acme holdings'],
    // Real names with legal forms of many countries.
    ['Toyota Motor Corporation', 'toyota motor'],
    ['Samsung Electronics Co., Ltd.', 'samsung electronics'],
    ['BHP Group Pty Ltd', 'bhp group'],
    ['Tata Consultancy Services Pvt. Ltd.', 'tata consultancy services'],
    ['Shell plc', 'shell'],
    ['Barclays PLC', 'barclays'],
    ['Siemens AG', 'siemens'],
    ['Robert Bosch GmbH', 'robert bosch'],
    ['Aldi GmbH & Co. KG', 'aldi'],
    ['SAP SE', 'sap'],
    ['Danone S.A.', 'danone'],
    ['TotalEnergies S. A.', 'totalenergies'],
    ['Carrefour SAS', 'carrefour'],
    ['Decathlon SARL', 'decathlon'],
    ['Ferrari S.p.A.', 'ferrari'],
    ['Barilla S.r.l.', 'barilla'],
    ['Grupo Bimbo, S.A.B. de C.V.', 'grupo bimbo'],
    ['Philips N.V.', 'philips'],
    ['Ahold Delhaize NV', 'ahold delhaize'],
    ['Booking Holdings B.V.', 'booking holdings'],
    ['Volvo AB (publ)', 'volvo'],
    ['Maersk A/S', 'maersk'],
    ['Equinor ASA', 'equinor'],
    ['Kone Oyj', 'kone'],
    ['Supercell Oy', 'supercell'],
    ['Hitachi KK', 'hitachi'],
    ['トヨタ自動車株式会社', 'トヨタ自動車'],
    ['ソニー㈱', 'ソニー'],
    ['阿里巴巴集团控股有限公司', '阿里巴巴集团控股'],
    // Case folding, NFKC and punctuation inside a name.
    ['Müller GmbH', 'müller'],
    ['Mu\u0308ller', 'müller'],
    ['STRAẞE AG', 'strasse'],
    ['Straße AG', 'strasse'],
    ["L'Oréal S.A.", 'loréal'],
    ['Procter & Gamble Co.', 'procter gamble'],
    ['The Coca-Cola Company', 'the coca cola'],
    ['E.ON SE', 'eon'],
    ['AT&T Inc.', 'att'],
    ['Yahoo!', 'yahoo'],
    ['McDonald’s Corporation', 'mcdonalds'],
    ['Acme (UK) Ltd', 'acme uk'],
    ['Acme\u200b Inc', 'acme'],
  ])('normalizes %j to %j', (name, key) => {
    expect(normalizeCompanyName(name)).toBe(key);
  });

  it.each([
    // A legal form counts only as the last word or words.
    ['AG Barr plc', 'ag barr'],
    ['Barr', 'barr'],
    ['Limited Brands', 'limited brands'],
    ['Inc. Magazine', 'inc magazine'],
    ['Company Shop', 'company shop'],
    // A name that is only a legal form, or an article and one, stays.
    ['Company', 'company'],
    ['Inc.', 'inc'],
    ['AG', 'ag'],
    ['S.A.', 'sa'],
    ['Co., Ltd.', 'co'],
    ['The Limited', 'the limited'],
    ['The Company', 'the company'],
    // A word that only ends like a legal form.
    ['Costco', 'costco'],
    ['Texas Instruments', 'texas instruments'],
    ['Plan B', 'plan b'],
    ['Acme Holdings', 'acme holdings'],
    ['Işık Holding', 'işık holding'],
    ['Isik Holding', 'isik holding'],
  ])('keeps %j as %j', (name, key) => {
    expect(normalizeCompanyName(name)).toBe(key);
  });

  it.each([
    ['Acme Inc.', 'Acme Ltd.'],
    ['ACME, Inc', 'Acme Corporation'],
    ['Siemens', 'SIEMENS AG'],
    ['Ferrari', 'Ferrari S.p.A.'],
  ])('gives %j and %j one key', (first, second) => {
    expect(normalizeCompanyName(first)).toBe(normalizeCompanyName(second));
  });

  it.each([
    ['AG Barr', 'Barr'],
    ['The Limited', 'Limited'],
    ['Acme Holdings', 'Acme'],
    ['Işık', 'Isik'],
  ])('keeps %j and %j apart', (first, second) => {
    expect(normalizeCompanyName(first)).not.toBe(normalizeCompanyName(second));
  });

  it.each(['', '   ', '—', '...', '™', '\u200b'])(
    'returns an empty key for %j',
    (name) => {
      expect(normalizeCompanyName(name)).toBe('');
    },
  );

  it('returns its own result unchanged', () => {
    const legalForm = fc.constantFrom(
      ' Inc.',
      ', Ltd',
      ' Co Ltd',
      ' & Co. KG',
      ' GmbH',
      ' S.A.',
      ' A/S',
      '株式会社',
    );
    const name = fc.tuple(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.array(legalForm, { maxLength: 3 }),
    );
    fc.assert(
      fc.property(name, ([words, forms]) => {
        const key = normalizeCompanyName(words + forms.join(''));
        expect(normalizeCompanyName(key)).toBe(key);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 24 }), (text) => {
        const key = normalizeCompanyName(text);
        expect(normalizeCompanyName(key)).toBe(key);
      }),
    );
  });
});
