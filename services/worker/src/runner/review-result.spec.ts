import { postedResult } from '@kritik/testing';
import { parseReviewResult } from './review-result.js';

const result = postedResult();

describe(parseReviewResult.name, () => {
  it('reads a termination message holding one result', () => {
    expect(parseReviewResult(JSON.stringify(result))).toEqual(result);
  });

  it('takes the last valid result line of a log', () => {
    const log = ['progress: 3 files', JSON.stringify({ ...result, status: 'failed' }), JSON.stringify(result), ''];
    expect(parseReviewResult(log.join('\n'))).toEqual(result);
  });

  it('finds nothing in output without a result', () => {
    expect(parseReviewResult('Error: boom\n{"not":"a result"}')).toBeUndefined();
  });
});
