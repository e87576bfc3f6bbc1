import { linesAbove, renderPullRequestView } from './render.js';

const HUNK = '@@ -3,4 +3,5 @@ export const X = 1;\n \n-old();\n+a();\n+b();\n+c();\n }';

describe(renderPullRequestView.name, () => {
  it('shows the diff only up to the commented line, skipping removed lines in the count', () => {
    expect(linesAbove(HUNK, 5, 2)).toBe('+a();\n+b();');
  });

  it('shows the hunk header-less tail when the header is missing', () => {
    expect(linesAbove(' x\n+y', 9, 1)).toBe('+y');
  });

  it('says so when no review and no check run were posted', () => {
    const sut = renderPullRequestView({ title: 'T', url: 'u', review: undefined, comments: [], checkRuns: [] });

    expect(sut).toContain('(no review was posted)');
    expect(sut).toContain('(no check run)');
  });
});
