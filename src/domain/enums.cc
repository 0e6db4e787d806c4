#include "domain/enums.h"

namespace partnerledger::domain {

namespace sv1 = storage::v1;

// No default labels: -Wswitch flags a value added to either enum and not
// mapped here.

sv1::OfferingClass ToStorage(v1::OfferingClass v) {
  switch (v) {
    case v1::OFFERING_CLASS_UNSPECIFIED:
      return sv1::OFFERING_CLASS_UNSPECIFIED;
    case v1::OFFERING_CLASS_PROJECT:
      return sv1::OFFERING_CLASS_PROJECT;
    case v1::OFFERING_CLASS_SAAS:
      return sv1::OFFERING_CLASS_SAAS;
    case v1::OFFERING_CLASS_LICENSE:
      return sv1::OFFERING_CLASS_LICENSE;
    case v1::OfferingClass_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::OfferingClass_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::OFFERING_CLASS_UNSPECIFIED;
}

v1::OfferingClass ToWire(sv1::OfferingClass v) {
  switch (v) {
    case sv1::OFFERING_CLASS_UNSPECIFIED:
      return v1::OFFERING_CLASS_UNSPECIFIED;
    case sv1::OFFERING_CLASS_PROJECT:
      return v1::OFFERING_CLASS_PROJECT;
    case sv1::OFFERING_CLASS_SAAS:
      return v1::OFFERING_CLASS_SAAS;
    case sv1::OFFERING_CLASS_LICENSE:
      return v1::OFFERING_CLASS_LICENSE;
    case sv1::OfferingClass_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::OfferingClass_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::OFFERING_CLASS_UNSPECIFIED;
}

sv1::MarginSource ToStorage(v1::MarginSource v) {
  switch (v) {
    case v1::MARGIN_SOURCE_UNSPECIFIED:
      return sv1::MARGIN_SOURCE_UNSPECIFIED;
    case v1::MARGIN_SOURCE_EXPLICIT:
      return sv1::MARGIN_SOURCE_EXPLICIT;
    case v1::MARGIN_SOURCE_AGREEMENT:
      return sv1::MARGIN_SOURCE_AGREEMENT;
    case v1::MARGIN_SOURCE_GUIDANCE_DEFAULT:
      return sv1::MARGIN_SOURCE_GUIDANCE_DEFAULT;
    case v1::MarginSource_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::MarginSource_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::MARGIN_SOURCE_UNSPECIFIED;
}

v1::MarginSource ToWire(sv1::MarginSource v) {
  switch (v) {
    case sv1::MARGIN_SOURCE_UNSPECIFIED:
      return v1::MARGIN_SOURCE_UNSPECIFIED;
    case sv1::MARGIN_SOURCE_EXPLICIT:
      return v1::MARGIN_SOURCE_EXPLICIT;
    case sv1::MARGIN_SOURCE_AGREEMENT:
      return v1::MARGIN_SOURCE_AGREEMENT;
    case sv1::MARGIN_SOURCE_GUIDANCE_DEFAULT:
      return v1::MARGIN_SOURCE_GUIDANCE_DEFAULT;
    case sv1::MarginSource_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::MarginSource_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::MARGIN_SOURCE_UNSPECIFIED;
}

sv1::ObligationKind ToStorage(v1::ObligationKind v) {
  switch (v) {
    case v1::OBLIGATION_KIND_UNSPECIFIED:
      return sv1::OBLIGATION_KIND_UNSPECIFIED;
    case v1::OBLIGATION_KIND_COMMISSION:
      return sv1::OBLIGATION_KIND_COMMISSION;
    case v1::OBLIGATION_KIND_PASS_THROUGH:
      return sv1::OBLIGATION_KIND_PASS_THROUGH;
    case v1::ObligationKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::ObligationKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::OBLIGATION_KIND_UNSPECIFIED;
}

v1::ObligationKind ToWire(sv1::ObligationKind v) {
  switch (v) {
    case sv1::OBLIGATION_KIND_UNSPECIFIED:
      return v1::OBLIGATION_KIND_UNSPECIFIED;
    case sv1::OBLIGATION_KIND_COMMISSION:
      return v1::OBLIGATION_KIND_COMMISSION;
    case sv1::OBLIGATION_KIND_PASS_THROUGH:
      return v1::OBLIGATION_KIND_PASS_THROUGH;
    case sv1::ObligationKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::ObligationKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::OBLIGATION_KIND_UNSPECIFIED;
}

sv1::ConflictKind ToStorage(v1::ConflictKind v) {
  switch (v) {
    case v1::CONFLICT_KIND_UNSPECIFIED:
      return sv1::CONFLICT_KIND_UNSPECIFIED;
    case v1::CONFLICT_KIND_REGISTRATION_OVERLAP:
      return sv1::CONFLICT_KIND_REGISTRATION_OVERLAP;
    case v1::CONFLICT_KIND_PAYMENT_DISPUTE:
      return sv1::CONFLICT_KIND_PAYMENT_DISPUTE;
    case v1::CONFLICT_KIND_DELIVERY:
      return sv1::CONFLICT_KIND_DELIVERY;
    case v1::CONFLICT_KIND_CUSTOMER_COMPLAINT:
      return sv1::CONFLICT_KIND_CUSTOMER_COMPLAINT;
    case v1::CONFLICT_KIND_OTHER:
      return sv1::CONFLICT_KIND_OTHER;
    case v1::ConflictKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::ConflictKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::CONFLICT_KIND_UNSPECIFIED;
}

v1::ConflictKind ToWire(sv1::ConflictKind v) {
  switch (v) {
    case sv1::CONFLICT_KIND_UNSPECIFIED:
      return v1::CONFLICT_KIND_UNSPECIFIED;
    case sv1::CONFLICT_KIND_REGISTRATION_OVERLAP:
      return v1::CONFLICT_KIND_REGISTRATION_OVERLAP;
    case sv1::CONFLICT_KIND_PAYMENT_DISPUTE:
      return v1::CONFLICT_KIND_PAYMENT_DISPUTE;
    case sv1::CONFLICT_KIND_DELIVERY:
      return v1::CONFLICT_KIND_DELIVERY;
    case sv1::CONFLICT_KIND_CUSTOMER_COMPLAINT:
      return v1::CONFLICT_KIND_CUSTOMER_COMPLAINT;
    case sv1::CONFLICT_KIND_OTHER:
      return v1::CONFLICT_KIND_OTHER;
    case sv1::ConflictKind_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::ConflictKind_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::CONFLICT_KIND_UNSPECIFIED;
}

sv1::DealStatus ToStorage(v1::DealStatus v) {
  switch (v) {
    case v1::DEAL_STATUS_UNSPECIFIED:
      return sv1::DEAL_STATUS_UNSPECIFIED;
    case v1::DEAL_STATUS_OPEN:
      return sv1::DEAL_STATUS_OPEN;
    case v1::DEAL_STATUS_WON:
      return sv1::DEAL_STATUS_WON;
    case v1::DEAL_STATUS_LOST:
      return sv1::DEAL_STATUS_LOST;
    case v1::DealStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::DealStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::DEAL_STATUS_UNSPECIFIED;
}

v1::DealStatus ToWire(sv1::DealStatus v) {
  switch (v) {
    case sv1::DEAL_STATUS_UNSPECIFIED:
      return v1::DEAL_STATUS_UNSPECIFIED;
    case sv1::DEAL_STATUS_OPEN:
      return v1::DEAL_STATUS_OPEN;
    case sv1::DEAL_STATUS_WON:
      return v1::DEAL_STATUS_WON;
    case sv1::DEAL_STATUS_LOST:
      return v1::DEAL_STATUS_LOST;
    case sv1::DealStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::DealStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::DEAL_STATUS_UNSPECIFIED;
}

sv1::ConflictStatus ToStorage(v1::ConflictStatus v) {
  switch (v) {
    case v1::CONFLICT_STATUS_UNSPECIFIED:
      return sv1::CONFLICT_STATUS_UNSPECIFIED;
    case v1::CONFLICT_STATUS_OPEN:
      return sv1::CONFLICT_STATUS_OPEN;
    case v1::CONFLICT_STATUS_RESOLVED:
      return sv1::CONFLICT_STATUS_RESOLVED;
    case v1::ConflictStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::ConflictStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::CONFLICT_STATUS_UNSPECIFIED;
}

v1::ConflictStatus ToWire(sv1::ConflictStatus v) {
  switch (v) {
    case sv1::CONFLICT_STATUS_UNSPECIFIED:
      return v1::CONFLICT_STATUS_UNSPECIFIED;
    case sv1::CONFLICT_STATUS_OPEN:
      return v1::CONFLICT_STATUS_OPEN;
    case sv1::CONFLICT_STATUS_RESOLVED:
      return v1::CONFLICT_STATUS_RESOLVED;
    case sv1::ConflictStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::ConflictStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::CONFLICT_STATUS_UNSPECIFIED;
}

sv1::StatementLineType ToStorage(v1::StatementLineType v) {
  switch (v) {
    case v1::STATEMENT_LINE_TYPE_UNSPECIFIED:
      return sv1::STATEMENT_LINE_TYPE_UNSPECIFIED;
    case v1::STATEMENT_LINE_TYPE_ACCRUAL:
      return sv1::STATEMENT_LINE_TYPE_ACCRUAL;
    case v1::STATEMENT_LINE_TYPE_REVERSAL:
      return sv1::STATEMENT_LINE_TYPE_REVERSAL;
    case v1::STATEMENT_LINE_TYPE_SETTLEMENT:
      return sv1::STATEMENT_LINE_TYPE_SETTLEMENT;
    case v1::StatementLineType_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::StatementLineType_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return sv1::STATEMENT_LINE_TYPE_UNSPECIFIED;
}

v1::StatementLineType ToWire(sv1::StatementLineType v) {
  switch (v) {
    case sv1::STATEMENT_LINE_TYPE_UNSPECIFIED:
      return v1::STATEMENT_LINE_TYPE_UNSPECIFIED;
    case sv1::STATEMENT_LINE_TYPE_ACCRUAL:
      return v1::STATEMENT_LINE_TYPE_ACCRUAL;
    case sv1::STATEMENT_LINE_TYPE_REVERSAL:
      return v1::STATEMENT_LINE_TYPE_REVERSAL;
    case sv1::STATEMENT_LINE_TYPE_SETTLEMENT:
      return v1::STATEMENT_LINE_TYPE_SETTLEMENT;
    case sv1::StatementLineType_INT_MIN_SENTINEL_DO_NOT_USE_:
    case sv1::StatementLineType_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return v1::STATEMENT_LINE_TYPE_UNSPECIFIED;
}

sv1::MarginBand ToStorage(const v1::MarginBand& b) {
  sv1::MarginBand out;
  out.set_from_year(b.from_year());
  out.set_rate_bp(b.rate_bp());
  return out;
}

v1::MarginBand ToWire(const sv1::MarginBand& b) {
  v1::MarginBand out;
  out.set_from_year(b.from_year());
  out.set_rate_bp(b.rate_bp());
  return out;
}

void AppendToStorage(
    const google::protobuf::RepeatedPtrField<v1::MarginBand>& in,
    google::protobuf::RepeatedPtrField<sv1::MarginBand>* out) {
  for (const v1::MarginBand& b : in) *out->Add() = ToStorage(b);
}

void AppendToWire(const google::protobuf::RepeatedPtrField<sv1::MarginBand>& in,
                  google::protobuf::RepeatedPtrField<v1::MarginBand>* out) {
  for (const sv1::MarginBand& b : in) *out->Add() = ToWire(b);
}

sv1::MarginSchedule ToStorage(const v1::MarginSchedule& s) {
  sv1::MarginSchedule out;
  out.set_offering_class(ToStorage(s.offering_class()));
  AppendToStorage(s.bands(), out.mutable_bands());
  return out;
}

v1::MarginSchedule ToWire(const sv1::MarginSchedule& s) {
  v1::MarginSchedule out;
  out.set_offering_class(ToWire(s.offering_class()));
  AppendToWire(s.bands(), out.mutable_bands());
  return out;
}

sv1::Document ToStorage(const v1::Document& d) {
  sv1::Document out;
  out.set_sha256(d.sha256());
  out.set_uri(d.uri());
  out.set_version(d.version());
  return out;
}

v1::Document ToWire(const sv1::Document& d) {
  v1::Document out;
  out.set_sha256(d.sha256());
  out.set_uri(d.uri());
  out.set_version(d.version());
  return out;
}

}  // namespace partnerledger::domain
