// The partnership rules (DESIGN §1, §2): decide each proposed event against
// state, derive the server's events, and apply recorded events to state,
// keeping the projections the queries read (state_keys.h lists every key).
//
// Pure and deterministic: no I/O besides the StateView/StateWriter handed
// in, no clock, no threads. The returned Rules object is immutable and safe
// to share between threads; the state objects are the caller's to guard.
//
// Decide(state, proposal)
//   REQUIRES: the payload passed ValidateProposedPayload for its stream, and
//   `state` reflects every event recorded before it (Apply called on each).
//   Returns the payload to record (MarginAgreed completed with the resolved
//   bands and source; otherwise the proposal unchanged) and the derived
//   events, in the order to record them right after it:
//     RevenueBooked   -> CommissionAccrued     (same deal stream)
//     RevenueReversed -> CommissionReversed    (same deal stream)
//     DealOriginated  -> ConflictRaised(REGISTRATION_OVERLAP) in stream
//       "conflict-" + DeriveUuid(event_id + "/conflict/registration-overlap")
//       when another originator holds the customer key + provider + class in
//       a deal not yet closed (other_deal_id: the earliest such deal). The
//       conflict is on the new deal, so its obligations are held while open.
//   Derived event ids are DeriveUuid(cause event_id + "/commission/accrued"
//   | "/commission/reversed" | "/conflict/registration-overlap").
//   Decide also runs Apply on a scratch overlay of `state` for the proposal
//   and its derived events, so every amount an Apply would compute is known
//   to be in range before anything is recorded: Apply of a decided event
//   never fails except for storage errors.
//   Errors (each message names the field and the ids involved). Each rule
//   lives in one place with one code: what needs no state is checked by
//   ValidateProposedPayload (domain/validate.h) and is INVALID_ARGUMENT
//   there (party_a = party_b; originator = provider; prime neither
//   originator nor provider; effective_to before effective_from; margin
//   bands or schedules malformed or a class scheduled twice; score out of
//   0..10; expected_value currency != deal currency; settlement payer =
//   payee; a derived-only type sent by a client). Decide checks the rest:
//     NOT_FOUND: unknown partner, agreement, deal, revenue line, conflict.
//     ALREADY_EXISTS: partner, agreement, deal, conflict or settlement id
//       already used; revenue_id already booked on the deal; a period
//       already closed, by itself or by a later month (nothing recorded).
//     FAILED_PRECONDITION: a rule of §2 is violated: overlapping active
//       agreement for the pair; amendment effective_from not after the
//       latest service_period_start already booked under the agreement;
//       agreement terminated (amend, terminate again, or a deal starting on
//       or after effective_on); deal roles not the agreement's two parties;
//       deal already closed; revenue on a deal not WON or before margin
//       agreed; a date in a closed period: closing a month locks it and
//       every earlier date, so booked_on (RevenueBooked) and the UTC date
//       of occurred_at (RevenueReversed, SettlementRecorded: their
//       statement dates) must be after the latest closed month's end;
//       reversal beyond what remains of the line; settlement beyond
//       outstanding minus on-hold from payer to payee in that currency;
//       conflict not open.
//     INVALID_ARGUMENT: a value wrong in context: amount currency (revenue,
//       reversal) ≠ deal currency; service_period_start before the deal's
//       start_date; amendment effective_from before the agreement's;
//       conflict deal not under the conflict's agreement.
//     OUT_OF_RANGE: a total would leave ±10^15 minor units.
//     Storage errors from `state` pass through.
//
// Apply(state, event)
//   Folds a recorded event (proposed or derived) into state. Types this
//   build does not know change nothing. Errors: INTERNAL when state lacks an
//   entity the event refers to (log and state disagree), DATA_LOSS when a
//   state value does not parse, storage errors pass through.
//
// Margin resolution (MarginAgreed with no bands): the agreement's schedule
// for the deal's offering class as in force at the deal's start_date: the
// latest version (signing or amendment) with effective_from <= start_date
// that lists the class, else the signing's if it lists it (a start before
// the agreement takes effect uses the signed terms) -> MARGIN_SOURCE_
// AGREEMENT; no schedule for the class -> the guidance defaults (PROJECT
// 2000/1000, SAAS 2500/1250, LICENSE 2500/1250 bp, bands from years 1 and
// 2) -> MARGIN_SOURCE_GUIDANCE_DEFAULT. Explicit bands -> EXPLICIT.
//
// Commission: rate = the deal's agreed band for the line's contract year
// (1 + whole years from start_date to service_period_start; Feb 29 starts
// have their anniversary on Mar 1). margin = half-even(revenue x rate /
// 10000). prime = provider: kind COMMISSION, provider pays originator the
// margin. prime = originator: kind PASS_THROUGH, originator pays provider
// revenue - margin. A reversal of r from a line reverses margin share
// half-even(margin x r / booked), clamped to [r - remaining pass-through,
// remaining margin] so neither part of the line goes negative; reversing all
// that remains returns exactly the remaining margin. The obligation reversed
// is the margin share (COMMISSION) or r - margin share (PASS_THROUGH), so
// per line margin + pass-through = revenue, exactly, at every step.
//
// On hold (Obligation in state.proto): when a deal gets its first open
// conflict, the part of its obligation (accrued - reversed) still covered by
// the pair's free outstanding is held; accruals/reversals on the deal while
// held move the held amount too; resolving the last conflict releases it.
// Settlements consume outstanding - on_hold only, COMMISSION kind first,
// then PASS_THROUGH. For each pair, currency and kind:
//   accrued - reversed - settled = outstanding, 0 <= on_hold <= outstanding
// (when outstanding >= 0).
#ifndef PARTNERLEDGER_DOMAIN_PARTNERSHIP_H_
#define PARTNERLEDGER_DOMAIN_PARTNERSHIP_H_

#include <memory>

#include "domain/rules.h"

namespace partnerledger::domain {

std::unique_ptr<Rules> NewPartnershipRules();

}  // namespace partnerledger::domain

#endif  // PARTNERLEDGER_DOMAIN_PARTNERSHIP_H_
