import { postedDetail, postedResult } from '@kritik/testing';
import { parseReviewResult } from './review-result.js';

const result = postedResult();

describe(parseReviewResult.name, () => {
  it('reads a termination message holding one result', () => {
    expect(parseReviewResult(JSON.stringify(result))).toEqual(result);
  });

  it('keeps the detail of a result whole: the findings as posted, the skipped files, the model and loop figures', () => {
    const detailed = postedResult(postedDetail());

    expect(parseReviewResult(JSON.stringify(detailed))).toEqual(detailed);
  });

  it('finds no result in a message whose detail breaks the contract, rather than a result without it', () => {
    const detailed = postedResult({
      findingList: [{ path: 'a', line: 1, severity: 'nit', title: 'x'.repeat(301), inline: true }],
    });

    expect(parseReviewResult(JSON.stringify(detailed))).toBeUndefined();
  });

  it('takes the last valid result line of a log', () => {
    const log = ['progress: 3 files', JSON.stringify({ ...result, status: 'failed' }), JSON.stringify(result), ''];
    expect(parseReviewResult(log.join('\n'))).toEqual(result);
  });

  it('finds nothing in output without a result', () => {
    expect(parseReviewResult('Error: boom\n{"not":"a result"}')).toBeUndefined();
  });
});
