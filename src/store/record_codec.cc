#include "store/record_codec.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"
#include "store/keys.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace partnerledger::store {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void PutStr(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

absl::Status Corrupt(const StoredEvent& e, std::string_view what) {
  return absl::DataLossError(
      Cat("event at position ", e.position(), ": ", what));
}

}  // namespace

const std::string& GenesisHash() {
  static const std::string* genesis = new std::string(kSha256Bytes, '\0');
  return *genesis;
}

std::string CanonicalBytes(const StoredEvent& e) {
  std::string out;
  out.reserve(96 + e.stream().size() + e.type().size() + e.actor().size() +
              e.correlation_id().size() + e.causation_id().size() +
              e.payload().size());
  out.append("PLE1");
  PutBigEndian64(&out, e.position());
  PutStr(&out, e.stream());
  PutBigEndian64(&out, e.revision());
  out.append(e.event_id());
  PutStr(&out, e.type());
  PutBigEndian64(&out, static_cast<uint64_t>(e.occurred_at_us()));
  PutBigEndian64(&out, static_cast<uint64_t>(e.recorded_at_us()));
  PutStr(&out, e.actor());
  PutStr(&out, e.correlation_id());
  PutStr(&out, e.causation_id());
  PutStr(&out, e.payload());
  PutU32(&out, e.schema_version());
  out.push_back(e.derived() ? '\1' : '\0');
  return out;
}

std::string ComputeHash(const StoredEvent& e) {
  return ChainHash(e.prev_hash(), CanonicalBytes(e));
}

std::string ChainHash(std::string_view prev_hash,
                      std::string_view canonical_bytes) {
  return DigestBytes(Sha256OfParts({prev_hash, canonical_bytes}));
}

absl::Status ValidateRecord(const StoredEvent& e) {
  if (e.position() == 0) return Corrupt(e, "position 0");
  if (e.stream().empty()) return Corrupt(e, "empty stream");
  if (e.stream().find('\0') != std::string::npos) {
    return Corrupt(e, "NUL in stream name");
  }
  if (e.event_id().size() != 16) return Corrupt(e, "event_id not 16 bytes");
  // The record's string fields are protobuf strings: bytes that are not
  // UTF-8 would be written but never parse again.
  for (const std::string* s : {&e.stream(), &e.type(), &e.actor(),
                               &e.correlation_id(), &e.causation_id()}) {
    if (!google::protobuf::internal::IsStructurallyValidUTF8(*s)) {
      return Corrupt(e, "a string field is not UTF-8");
    }
  }
  if (e.type().empty()) return Corrupt(e, "empty type");
  if (e.actor().empty()) return Corrupt(e, "empty actor");
  if (e.schema_version() == 0) return Corrupt(e, "schema_version 0");
  if (e.prev_hash().size() != kSha256Bytes) {
    return Corrupt(e, "prev_hash not 32 bytes");
  }
  if (e.hash().size() != kSha256Bytes) return Corrupt(e, "hash not 32 bytes");
  if (ComputeHash(e) != e.hash()) {
    return Corrupt(e, "hash does not match content");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const StoredEvent& e) {
  RETURN_IF_ERROR(ValidateRecord(e));
  std::string out;
  if (!e.SerializeToString(&out)) return Corrupt(e, "serialization failed");
  return out;
}

absl::StatusOr<StoredEvent> DecodeRecord(std::string_view bytes) {
  StoredEvent e;
  if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored event does not parse");
  }
  RETURN_IF_ERROR(ValidateRecord(e));
  return e;
}

}  // namespace partnerledger::store
