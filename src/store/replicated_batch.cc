// Batches written on another node (the leader) and carried by the
// replicated log: decoded and checked before this node writes them.
#include "absl/strings/str_cat.h"
#include "store/store.h"
#include "util/sha256.h"

namespace partnerledger::store {
namespace {

// Store::Family's values, numbered from 1 (0 is RocksDB's default family).
constexpr uint32_t kFamilyCount = 7;
static_assert(static_cast<uint32_t>(Store::Family::kMerkle) + 1 ==
              kFamilyCount);

// Collects the events and the head of a batch; refuses anything that is not
// a put into one of our families (deletes, merges, the default family).
class ReplicatedBatchReader final : public rocksdb::WriteBatch::Handler {
 public:
  explicit ReplicatedBatchReader(ReplicatedBatch* out) : out_(out) {}

  rocksdb::Status PutCF(uint32_t family_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    ++out_->writes;
    if (family_id == 0 || family_id > kFamilyCount) {
      return Refuse(
          absl::StrCat("a write to unknown column family ", family_id));
    }
    const auto family = static_cast<Store::Family>(family_id - 1);
    if (family == Store::Family::kEvents) return PutEvent(key, value);
    if (family == Store::Family::kMeta && key == rocksdb::Slice(kHeadMetaKey)) {
      return PutHead(value);
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override {
    return Refuse("a delete");
  }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override {
    return Refuse("a single delete");
  }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&,
                                const rocksdb::Slice&) override {
    return Refuse("a range delete");
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&,
                          const rocksdb::Slice&) override {
    return Refuse("a merge");
  }
  rocksdb::Status PutBlobIndexCF(uint32_t, const rocksdb::Slice&,
                                 const rocksdb::Slice&) override {
    return Refuse("a blob index");
  }

  const absl::Status& error() const { return error_; }

 private:
  rocksdb::Status PutEvent(const rocksdb::Slice& key,
                           const rocksdb::Slice& value) {
    std::optional<uint64_t> position =
        DecodeEventKey(std::string_view(key.data(), key.size()));
    if (!position.has_value())
      return Refuse("an event key that is not 8 bytes");
    absl::StatusOr<StoredEvent> e =
        DecodeRecord(std::string_view(value.data(), value.size()));
    if (!e.ok()) {
      return Refuse(absl::StrCat("the event at position ", *position, ": ",
                                 e.status().message()));
    }
    if (e->position() != *position) {
      return Refuse(absl::StrCat("the event under position ", *position,
                                 " says position ", e->position()));
    }
    out_->events.push_back(std::move(*e));
    return rocksdb::Status::OK();
  }

  rocksdb::Status PutHead(const rocksdb::Slice& value) {
    Head head;
    if (out_->head.has_value()) return Refuse("two head records");
    if (!head.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
        head.hash().size() != kSha256Bytes) {
      return Refuse("a head record that does not parse");
    }
    out_->head = std::move(head);
    return rocksdb::Status::OK();
  }

  rocksdb::Status Refuse(const std::string& what) {
    error_ = absl::DataLossError(
        absl::StrCat("replicated batch refused: it holds ", what));
    return rocksdb::Status::Corruption(what);
  }

  ReplicatedBatch* out_;
  absl::Status error_;
};

}  // namespace

absl::Status Store::CheckFamilyIds() const {
  for (size_t i = 0; i < handles_.size(); ++i) {
    if (handles_[i]->GetID() != i) {
      return absl::FailedPreconditionError(
          absl::StrCat("column family ", handles_[i]->GetName(), " has id ",
                       handles_[i]->GetID(), ", expected ", i,
                       ": this data directory cannot take replicated batches"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplicatedBatch> Store::DecodeReplicatedBatch(
    const std::string& bytes) const {
  ReplicatedBatch out;
  ReplicatedBatchReader reader(&out);
  rocksdb::WriteBatch batch(bytes);
  rocksdb::Status s = batch.Iterate(&reader);
  if (!reader.error().ok()) return reader.error();
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "replicated batch refused: it does not decode: ", s.ToString()));
  }
  if (out.writes != batch.Count()) {
    return absl::DataLossError(
        absl::StrCat("replicated batch refused: it counts ", batch.Count(),
                     " writes but holds ", out.writes));
  }
  return out;
}

absl::Status Store::CommitReplicated(const std::string& bytes) {
  rocksdb::WriteBatch batch(bytes);
  rocksdb::WriteOptions w;
  w.sync = sync_ && !disable_wal_;
  w.disableWAL = disable_wal_;
  return FromRocks(db_->Write(w, &batch), "commit replicated batch");
}

}  // namespace partnerledger::store
