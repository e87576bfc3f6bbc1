// The pull request the demo reviews: a small change to a checkout discount that forgets unknown
// codes, and the answer the model fake gives about it, so the demo shows a review a person would get.
import { FakeAnthropic, type MessageReply } from '@kritik/testing';

export const DEMO_OWNER = 'acme';
export const DEMO_REPO = 'shop';
export const DEMO_PR = 7;
export const DEMO_FILE = 'src/checkout/discount.ts';
export const DEMO_TITLE = 'Apply discount codes at checkout';

export const BASE_SOURCE = `// Discounts a customer can enter at checkout, in percent.
export const DISCOUNTS: Record<string, number> = { WELCOME10: 10, SPRING25: 25 };

export function applyDiscount(total: number, _code: string): number {
  return total;
}
`;

export const HEAD_SOURCE = `// Discounts a customer can enter at checkout, in percent.
export const DISCOUNTS: Record<string, number> = { WELCOME10: 10, SPRING25: 25 };

export function applyDiscount(total: number, code: string): number {
  const percent = DISCOUNTS[code.toUpperCase()];
  return Math.round(total - (total * percent) / 100);
}
`;

/** GitHub's patch of DEMO_FILE between the two sources above. */
export const PATCH = `@@ -1,6 +1,7 @@
 // Discounts a customer can enter at checkout, in percent.
 export const DISCOUNTS: Record<string, number> = { WELCOME10: 10, SPRING25: 25 };
 
-export function applyDiscount(total: number, _code: string): number {
-  return total;
+export function applyDiscount(total: number, code: string): number {
+  const percent = DISCOUNTS[code.toUpperCase()];
+  return Math.round(total - (total * percent) / 100);
 }`;

/** What the model (the Anthropic fake) answers: two findings on the new lines. */
export function demoModelReply(): MessageReply {
  return FakeAnthropic.toolUse('submit_review', {
    summary: 'The discount is applied, but an unknown code breaks the order total.',
    findings: [
      {
        path: DEMO_FILE,
        line: 6,
        severity: 'major',
        title: 'An unknown code makes the total NaN',
        body:
          '`DISCOUNTS[code.toUpperCase()]` is `undefined` for a code that is not in the table, so ' +
          '`total * percent` is `NaN` and the customer is charged `NaN`. Return `total` unchanged ' +
          'when the code is unknown.',
      },
      {
        path: DEMO_FILE,
        line: 6,
        severity: 'minor',
        title: 'Rounding drops the cents',
        body: '`Math.round` rounds to whole units; if `total` is in euros, 19.99 becomes 20. Round to cents.',
      },
    ],
  });
}
