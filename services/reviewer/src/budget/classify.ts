// What kind of file a path is, which decides the order files are reviewed in when the budget
// cannot cover them all: source first, then build and config, then tests, then docs.
export type FileKind = 'source' | 'config' | 'test' | 'docs';

export const KIND_ORDER: Readonly<Record<FileKind, number>> = { source: 0, config: 1, test: 2, docs: 3 };

const TEST_DIR = /(^|\/)(tests?|__tests__|__mocks__|specs?|testdata|testing|e2e|fixtures)\//i;
const TEST_FILE =
  /([._-](test|spec|tests)\.[A-Za-z0-9]+$)|(_test\.go$)|((^|\/)test_[^/]+\.py$)|(Tests?\.(java|kt|cs|swift)$)/;
const DOCS =
  /(\.(md|mdx|markdown|rst|adoc|txt)$)|((^|\/)(docs?|documentation)\/)|((^|\/)(LICENSE|NOTICE|AUTHORS|CHANGELOG)[^/]*$)/i;
const CONFIG =
  /(\.(ya?ml|json|jsonc|toml|ini|cfg|conf|properties|xml|gradle|tf|tfvars|hcl|cmake|mk)$)|((^|\/)(Dockerfile|Containerfile|Makefile|Jenkinsfile|\.[a-z]+rc)[^/]*$)|((^|\/)(go\.mod|Cargo\.toml|package\.json)$)/i;

export function classify(path: string): FileKind {
  if (TEST_DIR.test(path) || TEST_FILE.test(path)) return 'test';
  if (DOCS.test(path)) return 'docs';
  if (CONFIG.test(path)) return 'config';
  return 'source';
}
