// Fuzzes the stored-record codec (src/store/record_codec.h) and its paired
// checks: what decodes re-encodes to a record that decodes to the same
// content; encoding accepts exactly what ValidateRecord accepts; any change
// to a sealed record's content breaks its hash. Every failure is DATA_LOSS.
//
// The first byte picks how the rest becomes a record: decoded as stored
// bytes, parsed and sealed (hash recomputed) so the checks past the hash
// are reached, or built field by field from raw bytes (strings that no
// parser would produce, e.g. invalid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "store/record_codec.h"

namespace partnerledger::fuzz {
namespace {

using store::StoredEvent;

std::string Bytes(const StoredEvent& e) {
  std::string out;
  e.SerializeToString(&out);
  return out;
}

void CheckDataLoss(const absl::Status& s, const char* what) {
  PL_FUZZ_CHECK(s.code() == absl::StatusCode::kDataLoss,
                std::string(what) + ": " + s.ToString());
}

// Encode accepts iff ValidateRecord does; what it writes decodes back to
// the same content.
void CheckPaired(const StoredEvent& e) {
  const absl::Status valid = store::ValidateRecord(e);
  absl::StatusOr<std::string> enc = store::EncodeRecord(e);
  PL_FUZZ_CHECK(valid.ok() == enc.ok(), "encode and validate disagree");
  if (!enc.ok()) {
    CheckDataLoss(enc.status(), "encode");
    PL_FUZZ_CHECK(enc.status() == valid, "encode and validate messages");
    return;
  }
  absl::StatusOr<StoredEvent> back = store::DecodeRecord(*enc);
  PL_FUZZ_CHECK(back.ok(), "a record that encodes must decode: " +
                               back.status().ToString());
  PL_FUZZ_CHECK(Bytes(*back) == Bytes(e), "round trip changed the record");
  PL_FUZZ_CHECK(store::ComputeHash(*back) == e.hash(), "hash changed");
}

// A sealed, valid record: every single-field change must break the hash.
void CheckTamperEvident(const StoredEvent& e, uint8_t which) {
  StoredEvent t = e;
  switch (which % 10) {
    case 0:
      t.set_position(e.position() + 1);
      break;
    case 1:
      t.set_revision(e.revision() ^ 1);
      break;
    case 2:
      t.set_stream(e.stream() + "x");
      break;
    case 3:
      t.set_type(e.type() + "x");
      break;
    case 4:
      t.set_occurred_at_us(e.occurred_at_us() ^ 1);
      break;
    case 5:
      t.set_recorded_at_us(e.recorded_at_us() ^ 1);
      break;
    case 6:
      t.set_actor(e.actor() + "x");
      break;
    case 7:
      t.set_payload(e.payload() + "x");
      break;
    case 8:
      t.set_derived(!e.derived());
      break;
    default:
      // Moving a byte between two adjacent strings keeps the total length.
      t.set_correlation_id(e.correlation_id() + "x");
      if (!t.causation_id().empty()) t.mutable_causation_id()->erase(0, 1);
      break;
  }
  const absl::Status s = store::ValidateRecord(t);
  PL_FUZZ_CHECK(!s.ok(), "a changed record kept its hash");
  CheckDataLoss(s, "tampered");
}

StoredEvent BuildRaw(ByteReader& in) {
  auto str = [&in]() {
    std::string s;
    for (size_t n = in.Pick(24); n > 0; --n) s.push_back(char(in.U8()));
    return s;
  };
  StoredEvent e;
  e.set_position(in.U8() % 4);
  e.set_stream(str());
  e.set_revision(in.U8());
  e.set_event_id(std::string(in.Pick(2) == 0 ? 15 : 16, char(in.U8())));
  e.set_type(str());
  e.set_occurred_at_us(static_cast<int64_t>(in.U64()));
  e.set_recorded_at_us(static_cast<int64_t>(in.U64()));
  e.set_actor(str());
  e.set_correlation_id(str());
  e.set_causation_id(str());
  e.set_payload(str());
  e.set_schema_version(in.U8() % 3);
  e.set_derived(in.U8() & 1);
  e.set_prev_hash(std::string(in.Pick(8) == 0 ? 31 : 32, char(in.U8())));
  return e;
}

}  // namespace
}  // namespace partnerledger::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace partnerledger;
  using namespace partnerledger::fuzz;
  ByteReader in(data, size);
  const uint8_t mode = in.U8();
  const uint8_t tamper = in.U8();
  StoredEvent e;
  if (mode % 3 == 2) {
    e = BuildRaw(in);
    e.set_hash(store::ComputeHash(e));
  } else {
    const std::string_view bytes = in.Rest();
    absl::StatusOr<StoredEvent> decoded = store::DecodeRecord(bytes);
    if (decoded.ok()) {
      CheckPaired(*decoded);
      CheckTamperEvident(*decoded, tamper);
      return 0;
    }
    CheckDataLoss(decoded.status(), "decode");
    if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return 0;
    }
    if (mode % 3 == 1) e.set_hash(store::ComputeHash(e));
  }
  CheckPaired(e);
  if (store::ValidateRecord(e).ok()) CheckTamperEvident(e, tamper);
  return 0;
}
