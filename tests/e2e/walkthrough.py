#!/usr/bin/env python3
"""The auditor's walkthrough from an independent client: Python with Debian's
python3-grpcio and python3-protobuf, message classes generated at run time
with `protoc --python_out` (no grpc_tools; RPCs are called through grpcio's
generic channel.unary_unary with the generated classes).

Loads the worked example (tools/ledgerctl/README.md) into a running ledgerd
under fresh partner ids, so it can run against any server, and checks the
figures: F owes C EUR 22,000.00 in commission and USD 40,000.00 in
pass-through; the statement F -> C EUR 2027-02; the referral balance; the
hash chain.

Usage: /usr/bin/python3 tests/e2e/walkthrough.py --server 127.0.0.1:50051
Exit status: 0 when every check passed, 1 otherwise.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate_stubs(proto_dir, out_dir):
    protos = sorted(glob.glob(os.path.join(proto_dir, "partnerledger", "v1", "*.proto")))
    subprocess.run(["protoc", "-I", proto_dir, "--python_out=" + out_dir] + protos, check=True)
    sys.path.insert(0, out_dir)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def eq(self, name, actual, expected):
        if actual == expected:
            self.passed += 1
            print("ok   " + name)
        else:
            self.failed += 1
            print("FAIL %s: expected %r, got %r" % (name, expected, actual))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--proto-dir", default=os.path.join(ROOT, "proto"))
    args = parser.parse_args()

    import grpc  # python3-grpcio

    with tempfile.TemporaryDirectory(prefix="pl-walkthrough-") as gen:
        generate_stubs(args.proto_dir, gen)
        from partnerledger.v1 import event_store_pb2 as es
        from partnerledger.v1 import events_pb2 as ev
        from partnerledger.v1 import query_pb2 as q

    channel = grpc.insecure_channel(args.server)

    def rpc(service, method, request, response_class):
        call = channel.unary_unary(
            "/partnerledger.v1.%s/%s" % (service, method),
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString)
        return call(request, timeout=30)

    # Fresh ids: the walkthrough never collides with data already there.
    run = uuid.uuid4().hex[:8]
    C, F = "C" + run, "F" + run
    AGREEMENT, D1, D2, S1 = "CF" + run, "D1" + run, "D2" + run, "S1" + run

    def append(stream, payloads, day, expected_state=None):
        req = es.AppendEventsRequest(stream=stream)
        if expected_state is not None:
            req.expected_state = expected_state
        for p in payloads:
            e = req.events.add(event_id=str(uuid.uuid4()), payload=p)
            e.occurred_at.FromJsonString(day + "T12:00:00Z")
        return rpc("EventStoreService", "AppendEvents", req, es.AppendEventsResponse)

    def partner(name):
        return ev.EventPayload(partner_registered=ev.PartnerRegistered(
            legal_name=name, country="NL", pitch="We deliver."))

    def money(currency, minor):
        return ev.Money(currency=currency, amount_minor=minor)

    def deal(originator, provider, prime, cls, currency, start, customer):
        return ev.EventPayload(deal_originated=ev.DealOriginated(
            agreement_id=AGREEMENT, originator=originator, provider=provider, prime=prime,
            customer=ev.Customer(key=customer + run, name=customer), offering_class=cls,
            currency=currency, start_date=start))

    def margin_from_agreement():
        p = ev.EventPayload()
        p.margin_agreed.SetInParent()  # empty bands: the agreement's schedule
        return p

    def won():
        return ev.EventPayload(deal_closed=ev.DealClosed(outcome=ev.DEAL_OUTCOME_WON))

    def booked(rev, currency, minor, day):
        return ev.EventPayload(revenue_booked=ev.RevenueBooked(
            revenue_id=rev, amount=money(currency, minor), service_period_start=day,
            booked_on=day, invoice_ref="INV-" + rev))

    def schedule(cls, y1, y2):
        return ev.MarginSchedule(offering_class=cls, bands=[
            ev.MarginBand(from_year=1, rate_bp=y1), ev.MarginBand(from_year=2, rate_bp=y2)])

    no_stream = es.EXPECTED_STATE_NO_STREAM
    append("partner-" + C, [partner("C Consulting BV")], "2026-01-15", no_stream)
    append("partner-" + F, [partner("F Software GmbH")], "2026-01-15", no_stream)
    append("agreement-" + AGREEMENT, [ev.EventPayload(agreement_signed=ev.AgreementSigned(
        party_a=C, party_b=F,
        document=ev.Document(sha256="ab" * 32, uri="s3://contracts/cf.pdf", version="1"),
        effective_from="2026-01-01",
        schedules=[schedule(ev.OFFERING_CLASS_PROJECT, 2000, 1000),
                   schedule(ev.OFFERING_CLASS_SAAS, 2500, 1250)],
        payment_terms_days=30))], "2026-01-15", no_stream)
    append("deal-" + D1, [deal(C, F, F, ev.OFFERING_CLASS_SAAS, "EUR", "2026-02-01", "cust-1"),
                          margin_from_agreement(), won()], "2026-01-20", no_stream)
    r1 = append("deal-" + D1, [booked("R1", "EUR", 12000000, "2026-02-01")], "2026-02-01")
    append("deal-" + D1, [booked("R2", "EUR", 12000000, "2027-02-01")], "2027-02-01")
    append("deal-" + D1, [ev.EventPayload(revenue_reversed=ev.RevenueReversed(
        revenue_id="R1", amount=money("EUR", 1200000), reason="credit note"))], "2027-02-10")
    append("settlement-" + S1, [ev.EventPayload(settlement_recorded=ev.SettlementRecorded(
        payer=F, payee=C, amount=money("EUR", 2000000), reference="wire"))], "2027-02-20",
        no_stream)
    append("deal-" + D2, [deal(F, C, F, ev.OFFERING_CLASS_PROJECT, "USD", "2026-03-01", "cust-2"),
                          margin_from_agreement(), won()], "2026-02-15", no_stream)
    append("deal-" + D2, [booked("R3", "USD", 5000000, "2026-03-01")], "2026-03-01")

    checks = Checks()
    checks.eq("R1 derives its commission in the same append",
              [(e.type, e.derived) for e in r1.events],
              [("RevenueBooked", False), ("CommissionAccrued", True)])

    ob = rpc("LedgerQueryService", "GetObligations", q.GetObligationsRequest(partner_id=C),
             q.GetObligationsResponse)
    rows = {(o.payer, o.payee, o.currency): o for o in ob.obligations}
    eur = rows.get((F, C, "EUR"))
    usd = rows.get((F, C, "USD"))
    checks.eq("two obligation rows, both F -> C", sorted(rows), [(F, C, "EUR"), (F, C, "USD")])
    if eur is not None:
        checks.eq("EUR commission accrued 45,000.00", eur.accrued_minor, 4500000)
        checks.eq("EUR commission reversed 3,000.00", eur.reversed_minor, 300000)
        checks.eq("EUR settled 20,000.00", eur.settled_minor, 2000000)
        checks.eq("EUR outstanding F -> C 22,000.00", eur.outstanding_minor, 2200000)
        checks.eq("EUR kind is commission", eur.kind, ev.OBLIGATION_KIND_COMMISSION)
    if usd is not None:
        checks.eq("USD pass-through F -> C 40,000.00", usd.outstanding_minor, 4000000)
        checks.eq("USD kind is pass-through", usd.kind, ev.OBLIGATION_KIND_PASS_THROUGH)
    checks.eq("netted per pair: F owes C",
              sorted((n.currency, n.net_payer, n.net_payee, n.net_minor) for n in ob.net),
              [("EUR", F, C, 2200000), ("USD", F, C, 4000000)])

    st = rpc("LedgerQueryService", "GetStatement",
             q.GetStatementRequest(payer=F, payee=C, currency="EUR", period="2027-02"),
             q.GetStatementResponse)
    checks.eq("statement 2027-02 opening/accrued/reversed/settled/closing",
              (st.opening_minor, st.accrued_minor, st.reversed_minor, st.settled_minor,
               st.closing_minor),
              (3000000, 1500000, 300000, 2000000, 2200000))
    checks.eq("statement lines",
              [(q.StatementLineType.Name(l.type), l.revenue_id or l.settlement_id, l.amount_minor)
               for l in st.lines],
              [("STATEMENT_LINE_TYPE_ACCRUAL", "R2", 1500000),
               ("STATEMENT_LINE_TYPE_REVERSAL", "R1", 300000),
               ("STATEMENT_LINE_TYPE_SETTLEMENT", S1, 2000000)])

    rb = rpc("LedgerQueryService", "GetReferralBalance",
             q.GetReferralBalanceRequest(partner_a=C, partner_b=F), q.GetReferralBalanceResponse)
    checks.eq("referral C -> F: EUR revenue 228,000.00, margin 42,000.00",
              [(m.currency, m.revenue_minor, m.margin_minor) for m in rb.a_to_b.money],
              [("EUR", 22800000, 4200000)])
    checks.eq("referral F -> C: USD revenue 50,000.00, margin 10,000.00",
              [(m.currency, m.revenue_minor, m.margin_minor) for m in rb.b_to_a.money],
              [("USD", 5000000, 1000000)])

    digest = rpc("EventStoreService", "GetDigest", es.GetDigestRequest(), es.GetDigestResponse)
    vr = rpc("EventStoreService", "VerifyChain", es.VerifyChainRequest(expected=digest.digest),
             es.VerifyChainResponse)
    checks.eq("hash chain verifies and extends the digest", (vr.ok, vr.verified_through),
              (True, digest.digest.position))
    checks.eq("digest hex is the hash", digest.hash_hex, digest.digest.hash.hex())

    print("walkthrough: %d passed, %d failed" % (checks.passed, checks.failed))
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
