// What a frontend writes against the types openapi-typescript generates from openapi.yaml.
// tests/contract/test_generated_clients.py compiles it with `tsc --strict` next to those types
// (`./api.d.ts`); each `@ts-expect-error` must meet an error, or tsc fails on the directive.
import type { components } from "./api";

type Schemas = components["schemas"];

// `description` is optional (the server stores ""): a `default` would have made it required.
export const request: Schemas["CreateLoanRequest"] = {
  amount: 1000,
  interest_rate: 6.5,
  term: "12 months",
  purpose: "Working capital",
  lenders: [{ email: "lee@example.com", contribution_amount: 1000 }],
};

// Known error codes are a typed union; a code added after these types were generated fits
// `Error["error"]` too, so reading an error never needs a cast.
export const known: Schemas["ErrorCode"] = "LOAN_NOT_FOUND";
export const later: Schemas["Error"]["error"] = "A_CODE_ADDED_LATER";
// @ts-expect-error: a misspelt code is not an ErrorCode
export const typo: Schemas["ErrorCode"] = "LOAN_NOT_FUOND";

export function explain(error: Schemas["Error"]): string {
  const code: string = error.error;
  // `details` is an object (or null/absent); its values are unknown until checked.
  const amount: unknown = error.details?.["amount"];
  const shown = typeof amount === "number" ? amount.toFixed(2) : "";
  return `${code}: ${error.message} ${shown}`;
}

// One account type for what is sent and what is shown.
export const sent: Schemas["AcceptLoanRequest"]["account_type"] = "savings";
export const shownType: Schemas["AchSummary"]["account_type"] = sent;
// @ts-expect-error: not an account type
export const wrongType: Schemas["AccountType"] = "brokerage";

// The dashboards are objects; only Dashboard's properties are nullable.
export function loanCount(dashboard: Schemas["Dashboard"]): number {
  // @ts-expect-error: `borrower` may be null
  const unchecked: number = dashboard.borrower.loan_count;
  return (dashboard.borrower?.loan_count ?? 0) + (dashboard.lender?.accepted_count ?? 0) + unchecked * 0;
}
// @ts-expect-error: BorrowerDashboard itself is never null
export const notNull: Schemas["BorrowerDashboard"] = null;

// A pending invitation's status is a participant status.
export const pending: Schemas["PendingInvitation"]["status"] = "PENDING";
export const participant: Schemas["ParticipantStatus"] = pending;
export const loanStatus: Schemas["LoanStatus"] = "ACTIVE";
