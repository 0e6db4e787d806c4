#include "domain/validate.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "domain/guidance.h"
#include "domain/money.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "partnerledger/limits.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace partnerledger::domain {
namespace {

using v1::EventPayload;

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(Cat(field, ": ", why));
}

std::string Sub(std::string_view base, std::string_view name) {
  return Cat(base, ".", name);
}

absl::Status CheckId(std::string_view field, std::string_view v) {
  if (v.empty()) return Invalid(field, "required");
  if (!IsValidId(v)) {
    return Invalid(field, Cat("\"", v,
                              "\" is not an id: expected 1-64 of "
                              "[A-Za-z0-9._:-], alphanumeric first "
                              "(e.g. \"jane.doe\" or \"acme\")"));
  }
  return absl::OkStatus();
}

absl::Status CheckText(std::string_view field, std::string_view v,
                       bool required) {
  if (required && v.empty()) return Invalid(field, "required");
  if (v.size() > limits::kTextBytesMax) {
    return Invalid(field, Cat("longer than ", limits::kTextBytesMax, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckDate(std::string_view field, std::string_view v,
                       bool required) {
  if (v.empty()) {
    return required ? Invalid(field, "required") : absl::OkStatus();
  }
  if (!IsValidDate(v)) {
    return Invalid(field, Cat("\"", v, "\" is not a YYYY-MM-DD date"));
  }
  return absl::OkStatus();
}

absl::Status CheckPeriod(std::string_view field, std::string_view v) {
  if (v.empty()) return Invalid(field, "required");
  if (!IsValidPeriod(v)) {
    return Invalid(field, Cat("\"", v, "\" is not a YYYY-MM period"));
  }
  return absl::OkStatus();
}

absl::Status CheckCurrency(std::string_view field, std::string_view v) {
  if (v.empty()) return Invalid(field, "required");
  if (!CurrencyExponent(v).has_value()) {
    return Invalid(field, Cat("\"", v, "\" is not an ISO 4217 code"));
  }
  return absl::OkStatus();
}

// Amounts in events are positive: direction is carried by the event type
// (booked vs reversed), never by a sign.
absl::Status CheckMoney(std::string_view field, const v1::Money& m,
                        bool has_money) {
  if (!has_money) return Invalid(field, "required");
  RETURN_IF_ERROR(CheckCurrency(Sub(field, "currency"), m.currency()));
  const std::string amount = Sub(field, "amount_minor");
  if (m.amount_minor() <= 0) return Invalid(amount, "must be positive");
  if (m.amount_minor() > limits::kAmountMinorMax) {
    return Invalid(amount, Cat("exceeds ", limits::kAmountMinorMax));
  }
  return absl::OkStatus();
}

absl::Status CheckDocument(std::string_view field, const v1::Document& d,
                           bool has_document) {
  if (!has_document) return Invalid(field, "required");
  const std::string sha = Sub(field, "sha256");
  if (d.sha256().size() != 64) {
    return Invalid(sha, "must be 64 lowercase hex digits");
  }
  for (char c : d.sha256()) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Invalid(sha, "must be 64 lowercase hex digits");
    }
  }
  RETURN_IF_ERROR(CheckText(Sub(field, "uri"), d.uri(), false));
  return CheckText(Sub(field, "version"), d.version(), false);
}

absl::Status CheckBands(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<v1::MarginBand>& bands,
    bool allow_empty) {
  if (bands.empty()) {
    return allow_empty ? absl::OkStatus() : Invalid(field, "required");
  }
  if (static_cast<size_t>(bands.size()) > limits::kMarginBandsMax) {
    return Invalid(field, Cat("more than ", limits::kMarginBandsMax));
  }
  for (int i = 0; i < bands.size(); ++i) {
    const std::string f = Cat(field, "[", i, "]");
    const v1::MarginBand& b = bands[i];
    if (i == 0 && b.from_year() != 1) {
      return Invalid(Sub(f, "from_year"), "the first band starts at year 1");
    }
    if (i > 0 && b.from_year() <= bands[i - 1].from_year()) {
      return Invalid(Sub(f, "from_year"), "must increase band by band");
    }
    if (b.rate_bp() < 0 || b.rate_bp() > kBasisPointsMax) {
      return Invalid(Sub(f, "rate_bp"), Cat("must be 0..", kBasisPointsMax));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSchedules(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<v1::MarginSchedule>& schedules) {
  bool seen[4] = {false, false, false, false};
  for (int i = 0; i < schedules.size(); ++i) {
    const std::string f = Cat(field, "[", i, "]");
    const v1::MarginSchedule& s = schedules[i];
    const int c = static_cast<int>(s.offering_class());
    if (c <= 0 || c > 3) return Invalid(Sub(f, "offering_class"), "required");
    if (seen[c]) return Invalid(Sub(f, "offering_class"), "listed twice");
    seen[c] = true;
    RETURN_IF_ERROR(CheckBands(Sub(f, "bands"), s.bands(), false));
  }
  return absl::OkStatus();
}

absl::Status CheckSpecialties(
    std::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& specialties) {
  if (static_cast<size_t>(specialties.size()) > limits::kSpecialtiesMax) {
    return Invalid(field, Cat("more than ", limits::kSpecialtiesMax));
  }
  for (int i = 0; i < specialties.size(); ++i) {
    RETURN_IF_ERROR(CheckText(Cat(field, "[", i, "]"), specialties[i], true));
  }
  return absl::OkStatus();
}

absl::Status CheckCountry(std::string_view field, std::string_view v) {
  if (v.size() != 2 || !absl::ascii_isupper(static_cast<unsigned char>(v[0])) ||
      !absl::ascii_isupper(static_cast<unsigned char>(v[1]))) {
    return Invalid(field, "must be an ISO 3166-1 alpha-2 code like \"NL\"");
  }
  return absl::OkStatus();
}

absl::Status CheckPartnerRegistered(const std::string& f,
                                    const v1::PartnerRegistered& e) {
  RETURN_IF_ERROR(CheckText(Sub(f, "legal_name"), e.legal_name(), true));
  RETURN_IF_ERROR(CheckCountry(Sub(f, "country"), e.country()));
  RETURN_IF_ERROR(CheckText(Sub(f, "pitch"), e.pitch(), false));
  return CheckSpecialties(Sub(f, "specialties"), e.specialties());
}

absl::Status CheckAgreementSigned(const std::string& f,
                                  const v1::AgreementSigned& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "party_a"), e.party_a()));
  RETURN_IF_ERROR(CheckId(Sub(f, "party_b"), e.party_b()));
  if (e.party_a() == e.party_b()) {
    return Invalid(Sub(f, "party_b"), "must differ from party_a");
  }
  RETURN_IF_ERROR(
      CheckDocument(Sub(f, "document"), e.document(), e.has_document()));
  RETURN_IF_ERROR(
      CheckDate(Sub(f, "effective_from"), e.effective_from(), true));
  RETURN_IF_ERROR(CheckDate(Sub(f, "effective_to"), e.effective_to(), false));
  if (!e.effective_to().empty() && e.effective_to() < e.effective_from()) {
    return Invalid(Sub(f, "effective_to"), "before effective_from");
  }
  RETURN_IF_ERROR(CheckSchedules(Sub(f, "schedules"), e.schedules()));
  if (e.payment_terms_days() < 0 ||
      e.payment_terms_days() > limits::kPaymentTermsDaysMax) {
    return Invalid(Sub(f, "payment_terms_days"),
                   Cat("must be 0..", limits::kPaymentTermsDaysMax));
  }
  return absl::OkStatus();
}

absl::Status CheckDealOriginated(const std::string& f,
                                 const v1::DealOriginated& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "agreement_id"), e.agreement_id()));
  RETURN_IF_ERROR(CheckId(Sub(f, "originator"), e.originator()));
  RETURN_IF_ERROR(CheckId(Sub(f, "provider"), e.provider()));
  RETURN_IF_ERROR(CheckId(Sub(f, "prime"), e.prime()));
  if (e.originator() == e.provider()) {
    return Invalid(Sub(f, "provider"), "must differ from originator");
  }
  if (e.prime() != e.originator() && e.prime() != e.provider()) {
    return Invalid(Sub(f, "prime"), "must be the originator or the provider");
  }
  if (!e.has_customer()) return Invalid(Sub(f, "customer"), "required");
  RETURN_IF_ERROR(CheckText(Sub(f, "customer.key"), e.customer().key(), true));
  RETURN_IF_ERROR(
      CheckText(Sub(f, "customer.name"), e.customer().name(), false));
  if (e.offering_class() == v1::OFFERING_CLASS_UNSPECIFIED ||
      !v1::OfferingClass_IsValid(e.offering_class())) {
    return Invalid(Sub(f, "offering_class"),
                   "required: PROJECT, SAAS or LICENSE");
  }
  RETURN_IF_ERROR(CheckCurrency(Sub(f, "currency"), e.currency()));
  RETURN_IF_ERROR(CheckDate(Sub(f, "start_date"), e.start_date(), true));
  if (e.has_expected_value()) {
    RETURN_IF_ERROR(
        CheckMoney(Sub(f, "expected_value"), e.expected_value(), true));
    if (e.expected_value().currency() != e.currency()) {
      return Invalid(Sub(f, "expected_value.currency"),
                     "must equal the deal's currency");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckConflictRaised(const std::string& f,
                                 const v1::ConflictRaised& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "agreement_id"), e.agreement_id()));
  if (!e.deal_id().empty()) {
    RETURN_IF_ERROR(CheckId(Sub(f, "deal_id"), e.deal_id()));
  }
  if (!e.other_deal_id().empty()) {
    RETURN_IF_ERROR(CheckId(Sub(f, "other_deal_id"), e.other_deal_id()));
  }
  if (e.kind() == v1::CONFLICT_KIND_UNSPECIFIED ||
      !v1::ConflictKind_IsValid(e.kind())) {
    return Invalid(Sub(f, "kind"), "required: a known conflict kind");
  }
  RETURN_IF_ERROR(CheckId(Sub(f, "raised_by"), e.raised_by()));
  return CheckText(Sub(f, "summary"), e.summary(), true);
}

// The category each type belongs to.
std::string_view CategoryOf(EventPayload::KindCase c) {
  switch (c) {
    case EventPayload::kPartnerRegistered:
    case EventPayload::kPartnerProfileUpdated:
      return "partner";
    case EventPayload::kAgreementSigned:
    case EventPayload::kAgreementAmended:
    case EventPayload::kAgreementTerminated:
    case EventPayload::kSatisfactionRecorded:
      return "agreement";
    case EventPayload::kDealOriginated:
    case EventPayload::kMarginAgreed:
    case EventPayload::kStatementOfWorkAttached:
    case EventPayload::kPartnerDisclosed:
    case EventPayload::kDealClosed:
    case EventPayload::kRevenueBooked:
    case EventPayload::kRevenueReversed:
    case EventPayload::kCommissionAccrued:
    case EventPayload::kCommissionReversed:
      return "deal";
    case EventPayload::kConflictRaised:
    case EventPayload::kConflictResolved:
      return "conflict";
    case EventPayload::kSettlementRecorded:
      return "settlement";
    case EventPayload::kPeriodClosed:
      return "period";
    case EventPayload::KIND_NOT_SET:
      break;
  }
  return "";
}

absl::Status CheckPartnerProfileUpdated(const std::string& f,
                                        const v1::PartnerProfileUpdated& e) {
  RETURN_IF_ERROR(CheckText(Sub(f, "pitch"), e.pitch(), false));
  return CheckSpecialties(Sub(f, "specialties"), e.specialties());
}

absl::Status CheckAgreementAmended(const std::string& f,
                                   const v1::AgreementAmended& e) {
  if (e.schedules().empty()) return Invalid(Sub(f, "schedules"), "required");
  RETURN_IF_ERROR(CheckSchedules(Sub(f, "schedules"), e.schedules()));
  return CheckDate(Sub(f, "effective_from"), e.effective_from(), true);
}

absl::Status CheckAgreementTerminated(const std::string& f,
                                      const v1::AgreementTerminated& e) {
  RETURN_IF_ERROR(CheckDate(Sub(f, "effective_on"), e.effective_on(), true));
  return CheckText(Sub(f, "reason"), e.reason(), false);
}

absl::Status CheckSatisfactionRecorded(const std::string& f,
                                       const v1::SatisfactionRecorded& e) {
  if (e.subject() == v1::SATISFACTION_SUBJECT_UNSPECIFIED ||
      !v1::SatisfactionSubject_IsValid(e.subject())) {
    return Invalid(Sub(f, "subject"), "required: CUSTOMER or PARTNER");
  }
  RETURN_IF_ERROR(CheckId(Sub(f, "respondent"), e.respondent()));
  if (e.score() < 0 || e.score() > 10) {
    return Invalid(Sub(f, "score"), "must be 0..10");
  }
  return CheckPeriod(Sub(f, "period"), e.period());
}

absl::Status CheckStatementOfWorkAttached(
    const std::string& f, const v1::StatementOfWorkAttached& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "sow_id"), e.sow_id()));
  RETURN_IF_ERROR(CheckText(Sub(f, "version"), e.version(), false));
  return CheckDocument(Sub(f, "document"), e.document(), e.has_document());
}

absl::Status CheckDealClosed(const std::string& f, const v1::DealClosed& e) {
  if (e.outcome() == v1::DEAL_OUTCOME_UNSPECIFIED ||
      !v1::DealOutcome_IsValid(e.outcome())) {
    return Invalid(Sub(f, "outcome"), "required: WON or LOST");
  }
  return absl::OkStatus();
}

absl::Status CheckRevenueBooked(const std::string& f,
                                const v1::RevenueBooked& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "revenue_id"), e.revenue_id()));
  RETURN_IF_ERROR(CheckMoney(Sub(f, "amount"), e.amount(), e.has_amount()));
  RETURN_IF_ERROR(CheckDate(Sub(f, "service_period_start"),
                            e.service_period_start(), true));
  RETURN_IF_ERROR(CheckDate(Sub(f, "booked_on"), e.booked_on(), true));
  return CheckText(Sub(f, "invoice_ref"), e.invoice_ref(), false);
}

absl::Status CheckRevenueReversed(const std::string& f,
                                  const v1::RevenueReversed& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "revenue_id"), e.revenue_id()));
  RETURN_IF_ERROR(CheckMoney(Sub(f, "amount"), e.amount(), e.has_amount()));
  return CheckText(Sub(f, "reason"), e.reason(), false);
}

absl::Status CheckConflictResolved(const std::string& f,
                                   const v1::ConflictResolved& e) {
  RETURN_IF_ERROR(CheckText(Sub(f, "resolution"), e.resolution(), true));
  return CheckId(Sub(f, "resolved_by"), e.resolved_by());
}

absl::Status CheckSettlementRecorded(const std::string& f,
                                     const v1::SettlementRecorded& e) {
  RETURN_IF_ERROR(CheckId(Sub(f, "payer"), e.payer()));
  RETURN_IF_ERROR(CheckId(Sub(f, "payee"), e.payee()));
  if (e.payer() == e.payee()) {
    return Invalid(Sub(f, "payee"), "must differ from payer");
  }
  RETURN_IF_ERROR(CheckMoney(Sub(f, "amount"), e.amount(), e.has_amount()));
  return CheckText(Sub(f, "reference"), e.reference(), true);
}

// A period_closed event closes the period its stream names.
absl::Status CheckPeriodClosed(const std::string& f, const v1::PeriodClosed& e,
                               const StreamName& s) {
  RETURN_IF_ERROR(CheckPeriod(Sub(f, "period"), e.period()));
  if (e.period() != s.id) {
    return Invalid(Sub(f, "period"),
                   Cat("must equal the stream's period \"", s.id, "\""));
  }
  return absl::OkStatus();
}

// The payload's fields, by its type. The derived types (commission accrued
// or reversed) are refused before the body is checked.
absl::Status CheckBody(const EventPayload& p, const StreamName& s,
                       const std::string& f) {
  switch (p.kind_case()) {
    case EventPayload::kPartnerRegistered:
      return CheckPartnerRegistered(Sub(f, "partner_registered"),
                                    p.partner_registered());
    case EventPayload::kPartnerProfileUpdated:
      return CheckPartnerProfileUpdated(Sub(f, "partner_profile_updated"),
                                        p.partner_profile_updated());
    case EventPayload::kAgreementSigned:
      return CheckAgreementSigned(Sub(f, "agreement_signed"),
                                  p.agreement_signed());
    case EventPayload::kAgreementAmended:
      return CheckAgreementAmended(Sub(f, "agreement_amended"),
                                   p.agreement_amended());
    case EventPayload::kAgreementTerminated:
      return CheckAgreementTerminated(Sub(f, "agreement_terminated"),
                                      p.agreement_terminated());
    case EventPayload::kSatisfactionRecorded:
      return CheckSatisfactionRecorded(Sub(f, "satisfaction_recorded"),
                                       p.satisfaction_recorded());
    case EventPayload::kDealOriginated:
      return CheckDealOriginated(Sub(f, "deal_originated"),
                                 p.deal_originated());
    case EventPayload::kMarginAgreed:
      return CheckBands(Sub(f, "margin_agreed.bands"),
                        p.margin_agreed().bands(), true);
    case EventPayload::kStatementOfWorkAttached:
      return CheckStatementOfWorkAttached(Sub(f, "statement_of_work_attached"),
                                          p.statement_of_work_attached());
    case EventPayload::kPartnerDisclosed:
      return CheckDate(Sub(f, "partner_disclosed.disclosed_on"),
                       p.partner_disclosed().disclosed_on(), true);
    case EventPayload::kDealClosed:
      return CheckDealClosed(Sub(f, "deal_closed"), p.deal_closed());
    case EventPayload::kRevenueBooked:
      return CheckRevenueBooked(Sub(f, "revenue_booked"), p.revenue_booked());
    case EventPayload::kRevenueReversed:
      return CheckRevenueReversed(Sub(f, "revenue_reversed"),
                                  p.revenue_reversed());
    case EventPayload::kConflictRaised:
      return CheckConflictRaised(Sub(f, "conflict_raised"),
                                 p.conflict_raised());
    case EventPayload::kConflictResolved:
      return CheckConflictResolved(Sub(f, "conflict_resolved"),
                                   p.conflict_resolved());
    case EventPayload::kSettlementRecorded:
      return CheckSettlementRecorded(Sub(f, "settlement_recorded"),
                                     p.settlement_recorded());
    case EventPayload::kPeriodClosed:
      return CheckPeriodClosed(Sub(f, "period_closed"), p.period_closed(), s);
    case EventPayload::kCommissionAccrued:
    case EventPayload::kCommissionReversed:
    case EventPayload::KIND_NOT_SET:
      break;
  }
  return Invalid(f, "no event type set");
}

}  // namespace

std::string_view EventTypeName(EventPayload::KindCase c) {
  switch (c) {
    case EventPayload::kPartnerRegistered:
      return "PartnerRegistered";
    case EventPayload::kPartnerProfileUpdated:
      return "PartnerProfileUpdated";
    case EventPayload::kAgreementSigned:
      return "AgreementSigned";
    case EventPayload::kAgreementAmended:
      return "AgreementAmended";
    case EventPayload::kAgreementTerminated:
      return "AgreementTerminated";
    case EventPayload::kSatisfactionRecorded:
      return "SatisfactionRecorded";
    case EventPayload::kDealOriginated:
      return "DealOriginated";
    case EventPayload::kMarginAgreed:
      return "MarginAgreed";
    case EventPayload::kStatementOfWorkAttached:
      return "StatementOfWorkAttached";
    case EventPayload::kPartnerDisclosed:
      return "PartnerDisclosed";
    case EventPayload::kDealClosed:
      return "DealClosed";
    case EventPayload::kRevenueBooked:
      return "RevenueBooked";
    case EventPayload::kRevenueReversed:
      return "RevenueReversed";
    case EventPayload::kCommissionAccrued:
      return "CommissionAccrued";
    case EventPayload::kCommissionReversed:
      return "CommissionReversed";
    case EventPayload::kConflictRaised:
      return "ConflictRaised";
    case EventPayload::kConflictResolved:
      return "ConflictResolved";
    case EventPayload::kSettlementRecorded:
      return "SettlementRecorded";
    case EventPayload::kPeriodClosed:
      return "PeriodClosed";
    case EventPayload::KIND_NOT_SET:
      break;
  }
  return "";
}

bool IsDerivedOnly(EventPayload::KindCase c) {
  return c == EventPayload::kCommissionAccrued ||
         c == EventPayload::kCommissionReversed;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > limits::kIdBytesMax) return false;
  if (!absl::ascii_isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {
bool Digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}
int Number(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}
}  // namespace

bool IsValidPeriod(std::string_view p) {
  if (p.size() != 7 || p[4] != '-' || !Digits(p.substr(0, 4)) ||
      !Digits(p.substr(5, 2))) {
    return false;
  }
  const int year = Number(p.substr(0, 4));
  const int month = Number(p.substr(5, 2));
  return year >= 1900 && month >= 1 && month <= 12;
}

bool IsValidDate(std::string_view d) {
  if (d.size() != 10 || d[7] != '-' || !IsValidPeriod(d.substr(0, 7)) ||
      !Digits(d.substr(8, 2))) {
    return false;
  }
  const int year = Number(d.substr(0, 4));
  const int month = Number(d.substr(5, 2));
  const int day = Number(d.substr(8, 2));
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day >= 1 && day <= days;
}

absl::StatusOr<StreamName> ParseStreamName(std::string_view stream) {
  if (stream.empty()) return Invalid("stream", "required");
  if (stream.size() > limits::kStreamNameBytesMax) {
    return Invalid("stream",
                   Cat("longer than ", limits::kStreamNameBytesMax, " bytes"));
  }
  const size_t dash = stream.find('-');
  if (dash == std::string_view::npos) {
    return Invalid("stream", Cat("\"", stream, "\" is not {category}-{id}"));
  }
  StreamName s{stream.substr(0, dash), stream.substr(dash + 1)};
  static constexpr std::string_view kCategories[] = {
      "partner", "agreement", "deal", "conflict", "settlement", "period"};
  bool known = false;
  for (std::string_view c : kCategories) known = known || c == s.category;
  if (!known) {
    return Invalid("stream", Cat("unknown category \"", s.category,
                                 "\" (partner, agreement, deal, conflict, "
                                 "settlement, period)"));
  }
  if (s.category == "period" ? !IsValidPeriod(s.id) : !IsValidId(s.id)) {
    return Invalid("stream",
                   Cat("\"", s.id, "\" is not a valid ", s.category, " id"));
  }
  return s;
}

bool IsValidTimestamp(int64_t seconds, int32_t nanos) {
  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as Timestamp defines.
  constexpr int64_t kSecondsMin = -62'135'596'800;
  constexpr int64_t kSecondsMax = 253'402'300'799;
  return seconds >= kSecondsMin && seconds <= kSecondsMax && nanos >= 0 &&
         nanos <= 999'999'999;
}

namespace {

using google::protobuf::FieldDescriptor;

absl::Status CheckEnumValue(const std::string& field,
                            const google::protobuf::EnumDescriptor& type,
                            int value) {
  if (type.FindValueByNumber(value) != nullptr) return absl::OkStatus();
  return Invalid(field, Cat("unknown value ", value, " of ", type.full_name()));
}

absl::Status CheckTimestamp(const std::string& field,
                            const google::protobuf::Timestamp& t) {
  if (IsValidTimestamp(t.seconds(), t.nanos())) return absl::OkStatus();
  return Invalid(field, Cat("seconds ", t.seconds(), ", nanos ", t.nanos(),
                            " out of range (0001-01-01T00:00:00Z .. "
                            "9999-12-31T23:59:59Z, nanos 0..999999999)"));
}

absl::Status CheckWireField(const google::protobuf::Message& m,
                            const FieldDescriptor& f, int index,
                            const std::string& path) {
  const google::protobuf::Reflection& r = *m.GetReflection();
  if (f.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    const int v = index < 0 ? r.GetEnumValue(m, &f)
                            : r.GetRepeatedEnumValue(m, &f, index);
    return CheckEnumValue(path, *f.enum_type(), v);
  }
  if (f.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return absl::OkStatus();
  const google::protobuf::Message& sub =
      index < 0 ? r.GetMessage(m, &f) : r.GetRepeatedMessage(m, &f, index);
  if (f.message_type() == google::protobuf::Timestamp::descriptor()) {
    google::protobuf::Timestamp t;
    t.CopyFrom(sub);
    return CheckTimestamp(path, t);
  }
  return ValidateWireValues(sub, path);
}

}  // namespace

absl::Status ValidateWireValues(const google::protobuf::Message& m,
                                const std::string& field) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);  // set fields only
  for (const FieldDescriptor* f : fields) {
    const std::string path = field.empty() ? f->name() : Sub(field, f->name());
    if (!f->is_repeated()) {
      RETURN_IF_ERROR(CheckWireField(m, *f, -1, path));
      continue;
    }
    const int n = m.GetReflection()->FieldSize(m, f);
    for (int i = 0; i < n; ++i) {
      RETURN_IF_ERROR(CheckWireField(m, *f, i, Cat(path, "[", i, "]")));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateProposedPayload(const EventPayload& p,
                                     const StreamName& stream,
                                     const std::string& field) {
  const EventPayload::KindCase c = p.kind_case();
  if (c == EventPayload::KIND_NOT_SET) {
    return Invalid(field, "no known event type set");
  }
  if (IsDerivedOnly(c)) {
    return Invalid(field, Cat(EventTypeName(c),
                              " is derived by the server; clients "
                              "cannot send it"));
  }
  if (CategoryOf(c) != stream.category) {
    return Invalid(field, Cat(EventTypeName(c), " belongs in a ", CategoryOf(c),
                              "-{id} stream, not ", stream.category, "-"));
  }
  if (p.ByteSizeLong() > limits::kEventPayloadBytesMax) {
    return Invalid(
        field, Cat("larger than ", limits::kEventPayloadBytesMax, " bytes"));
  }
  return CheckBody(p, stream, field);
}

}  // namespace partnerledger::domain
