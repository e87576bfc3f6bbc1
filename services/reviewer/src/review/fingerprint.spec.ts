import {
  extractFingerprints,
  fingerprint,
  fingerprintMarker,
  isKritikBody,
  normaliseTitle,
  parseReviewMarker,
  reviewMarker,
} from './fingerprint.js';

describe(fingerprint.name, () => {
  it('stays the same when the line moves or its indentation and title punctuation change', () => {
    const a = fingerprint('src/a.ts', 'Possible `null` dereference!', '  return user.name;');
    const b = fingerprint('src/a.ts', 'possible null dereference', 'return   user.name;');

    expect(a).toBe(b);
  });

  it('differs for another file, title or code line', () => {
    const base = fingerprint('a.ts', 'Leak', 'open()');

    expect([
      fingerprint('b.ts', 'Leak', 'open()'),
      fingerprint('a.ts', 'Race', 'open()'),
      fingerprint('a.ts', 'Leak', 'close()'),
    ]).not.toContain(base);
  });
});

describe(extractFingerprints.name, () => {
  it('reads back every marker written into a body', () => {
    const body = `text ${fingerprintMarker('0123456789abcdef')}\nmore ${fingerprintMarker('fedcba9876543210')}`;

    expect(extractFingerprints(body)).toEqual(['0123456789abcdef', 'fedcba9876543210']);
  });
});

describe(parseReviewMarker.name, () => {
  it('reads back the head, base and review id', () => {
    const marker = reviewMarker({ head: 'a'.repeat(40), base: 'b'.repeat(40), id: 'abc123def456' });

    expect(parseReviewMarker(`summary\n${marker}`)).toEqual({
      head: 'a'.repeat(40),
      base: 'b'.repeat(40),
      id: 'abc123def456',
    });
    expect(isKritikBody(marker)).toBe(true);
  });

  it('recognises a comment carrying only a finding fingerprint as Kritik', () => {
    expect(isKritikBody(`text\n\n${fingerprintMarker('0123456789abcdef')}`)).toBe(true);
  });

  it('returns null for a body Kritik did not write', () => {
    expect([parseReviewMarker('LGTM'), isKritikBody('LGTM')]).toEqual([null, false]);
  });
});

describe(normaliseTitle.name, () => {
  it('lower-cases and keeps only words', () => {
    expect(normaliseTitle('  SQL-Injection in `query()`!! ')).toBe('sql injection in query');
  });
});
