#include "store/merkle_tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "partnerledger/limits.h"
#include "store/keys.h"
#include "util/check.h"
#include "util/sha256.h"
#include "util/status_macros.h"

namespace partnerledger::store {
namespace {

constexpr char kTreeSizeKey[] = "size";
// Events per synced batch when completing a tree that is behind the log.
constexpr size_t kBackfillEventsMax = 65536;

// A node the staged records complete, kept until the group's nodes are
// written in key order.
struct StagedNode {
  int level;
  uint64_t index;
  std::array<char, kSha256Bytes> hash;
};

// REQUIRES: leaves holds the records' leaf hashes, 32 bytes each.
void StageInto(merkle::Frontier* f, const std::vector<StoredEvent>& records,
               std::string_view leaves, Batch* batch) {
  PL_CHECK(leaves.size() == records.size() * kSha256Bytes)
      << leaves.size() << " bytes of leaf hashes for " << records.size()
      << " records";
  std::vector<StagedNode> nodes;
  nodes.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const StoredEvent& e = records[i];
    // Leaf i is the event at position i + 1: a gap would shift every later
    // leaf and make every proof from here on wrong.
    PL_CHECK(e.position() == f->size() + 1)
        << "Merkle leaf " << f->size() << " staged with the event at position "
        << e.position();
    f->Append(leaves.substr(i * kSha256Bytes, kSha256Bytes),
              [&nodes](int level, uint64_t index, const std::string& hash) {
                // Level 0 is the record itself (RecordLeafHash of the
                // event at index + 1): storing it again would only double
                // the tree's writes.
                if (level == 0) return;
                StagedNode& n = nodes.emplace_back();
                n.level = level;
                n.index = index;
                std::copy(hash.begin(), hash.end(), n.hash.begin());
              });
  }
  // Appending emits the levels interleaved (1, 2, 1, 3, 1, 2, ...); written
  // in that order, every put lands away from the one before and the
  // memtable's skiplist searches from its top for each. In key order (by
  // level, then index) each put follows the previous one and reuses its
  // position: the same entries, at a fraction of the insert cost.
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const StagedNode& a, const StagedNode& b) {
                     return a.level < b.level;
                   });
  for (const StagedNode& n : nodes) {
    batch->PutMerkleNode(n.level, n.index,
                         std::string_view(n.hash.data(), n.hash.size()));
  }
  batch->PutMerkleTreeSize(f->size());
}

// The leaf hashes of `records`, for callers that did not hash them with
// HashRecord.
std::string LeafHashes(const std::vector<StoredEvent>& records) {
  std::string leaves;
  leaves.reserve(records.size() * kSha256Bytes);
  for (const StoredEvent& e : records) leaves.append(RecordLeafHash(e));
  return leaves;
}

}  // namespace

std::string RecordLeafHash(const StoredEvent& e) {
  return merkle::LeafHash(CanonicalBytes(e));
}

void HashRecord(StoredEvent* e, std::string* leaves) {
  const std::string bytes = CanonicalBytes(*e);
  e->set_hash(ChainHash(e->prev_hash(), bytes));
  if (leaves != nullptr) leaves->append(merkle::LeafHash(bytes));
}

void Batch::PutMerkleNode(int level, uint64_t index, std::string_view hash) {
  batch_.Put(store_->cf(Store::Family::kMerkle), MerkleNodeKey(level, index),
             rocksdb::Slice(hash));
}

void Batch::PutMerkleTreeSize(uint64_t size) {
  batch_.Put(store_->cf(Store::Family::kMerkle), kTreeSizeKey, EventKey(size));
}

absl::StatusOr<std::optional<std::string>> Store::ReadMerkleNode(
    int level, uint64_t index) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   Read(rocksdb::ReadOptions(), Family::kMerkle,
                        MerkleNodeKey(level, index), "read Merkle node"));
  if (value.has_value() && value->size() != kSha256Bytes) {
    return absl::DataLossError(
        absl::StrCat("Merkle node (", level, ", ", index, ") is not 32 bytes"));
  }
  return value;
}

absl::StatusOr<uint64_t> Store::ReadMerkleTreeSize() const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   Read(rocksdb::ReadOptions(), Family::kMerkle, kTreeSizeKey,
                        "read Merkle tree size"));
  if (!value.has_value()) return 0;
  if (value->size() != 8) {
    return absl::DataLossError("Merkle tree size is not 8 bytes");
  }
  return GetBigEndian64(*value);
}

absl::StatusOr<std::string> StoreNodeSource::Node(int level,
                                                  uint64_t index) const {
  if (level == 0) {
    ASSIGN_OR_RETURN(std::optional<StoredEvent> e,
                     store_->ReadEvent(index + 1));
    if (!e.has_value()) {
      return absl::DataLossError(absl::StrCat(
          "event ", index + 1, " (Merkle leaf ", index, ") is missing"));
    }
    return RecordLeafHash(*e);
  }
  ASSIGN_OR_RETURN(std::optional<std::string> h,
                   store_->ReadMerkleNode(level, index));
  if (!h.has_value()) {
    return absl::DataLossError(
        absl::StrCat("Merkle node (", level, ", ", index, ") is missing"));
  }
  return std::move(*h);
}

std::optional<std::string> NodeCache::Get(int level, uint64_t index) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = nodes_.find(Key(level, index));
  if (it == nodes_.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

void NodeCache::Put(int level, uint64_t index, const std::string& hash) {
  if (hash.size() != kSha256Bytes) return;
  std::array<char, 32> h;
  std::copy(hash.begin(), hash.end(), h.begin());
  absl::MutexLock lock(&mu_);
  // Starting over keeps the bound; the upper levels, read by every proof,
  // come back first.
  if (nodes_.size() >= limits::kMerkleNodeCacheEntriesMax) nodes_.clear();
  nodes_.insert_or_assign(Key(level, index), h);
}

size_t NodeCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return nodes_.size();
}

absl::StatusOr<std::string> CachedNodeSource::Node(int level,
                                                   uint64_t index) const {
  if (level < limits::kMerkleCachedLevelMin) return inner_->Node(level, index);
  if (std::optional<std::string> hit = cache_->Get(level, index)) {
    return std::move(*hit);
  }
  absl::StatusOr<std::string> h = inner_->Node(level, index);
  if (h.ok()) cache_->Put(level, index, *h);
  return h;
}

absl::StatusOr<std::string> LogNodeSource::Node(int level,
                                                uint64_t index) const {
  if (level == 0) return stored_.Node(0, index);
  ASSIGN_OR_RETURN(std::optional<std::string> h,
                   store_->ReadMerkleNode(level, index));
  if (h.has_value()) return std::move(*h);
  ASSIGN_OR_RETURN(std::string left, Node(level - 1, 2 * index));
  ASSIGN_OR_RETURN(std::string right, Node(level - 1, 2 * index + 1));
  return merkle::NodeHash(left, right);
}

absl::StatusOr<std::unique_ptr<TreeWriter>> TreeWriter::Open(Store* store,
                                                             uint64_t head) {
  ASSIGN_OR_RETURN(uint64_t size, store->ReadMerkleTreeSize());
  if (size > head) {
    return absl::DataLossError(absl::StrCat(
        "the Merkle tree covers ", size, " events but the log ends at ", head));
  }
  StoreNodeSource source(store);
  ASSIGN_OR_RETURN(merkle::Frontier f, merkle::Frontier::Load(source, size));
  std::unique_ptr<TreeWriter> w(new TreeWriter(std::move(f)));
  while (w->size() < head) {
    std::vector<StoredEvent> chunk;
    absl::Status scan = store->ScanEvents(
        w->size() + 1, /*forward=*/true, [&](StoredEvent&& e) {
          if (e.position() > head) return false;
          chunk.push_back(std::move(e));
          return chunk.size() < kBackfillEventsMax;
        });
    RETURN_IF_ERROR(scan);
    if (chunk.empty() || chunk.front().position() != w->size() + 1) {
      return absl::DataLossError(
          absl::StrCat("event ", w->size() + 1, " is missing below the head"));
    }
    for (size_t i = 1; i < chunk.size(); ++i) {
      if (chunk[i].position() != chunk[i - 1].position() + 1) {
        return absl::DataLossError(absl::StrCat("event ",
                                                chunk[i - 1].position() + 1,
                                                " is missing below the head"));
      }
    }
    Batch b = store->NewBatch();
    w->Stage(chunk, &b);
    RETURN_IF_ERROR(store->Commit(&b));
    w->Adopt();
  }
  return w;
}

void TreeWriter::Stage(const std::vector<StoredEvent>& records, Batch* batch) {
  Stage(records, LeafHashes(records), batch);
}

void TreeWriter::Stage(const std::vector<StoredEvent>& records,
                       std::string_view leaves, Batch* batch) {
  staged_ = committed_;
  StageInto(&*staged_, records, leaves, batch);
}

void TreeWriter::Adopt() {
  if (staged_.has_value()) committed_ = std::move(*staged_);
  staged_.reset();
}

void TreeWriter::Discard() { staged_.reset(); }

absl::StatusOr<TreeCheck> TreeCheck::Start(const Store* store, uint64_t size) {
  ASSIGN_OR_RETURN(uint64_t stored, store->ReadMerkleTreeSize());
  if (stored == 0) {
    return TreeCheck(store, merkle::Frontier(), 0, /*present=*/false);
  }
  merkle::Frontier f;
  if (size > 0) {
    ASSIGN_OR_RETURN(merkle::Frontier loaded,
                     merkle::Frontier::Load(StoreNodeSource(store), size));
    f = std::move(loaded);
  }
  return TreeCheck(store, std::move(f), stored, /*present=*/true);
}

std::optional<std::string> TreeCheck::Compare(int level, uint64_t index,
                                              const std::string& hash) {
  if (level == 0) return std::nullopt;  // the record itself
  if (levels_.size() <= static_cast<size_t>(level)) levels_.resize(level + 1);
  std::shared_ptr<rocksdb::Iterator>& it = levels_[level];
  const std::string key = MerkleNodeKey(level, index);
  if (it == nullptr) {
    it = store_->NewIterator(Store::Family::kMerkle);
    it->Seek(key);
  } else {
    it->Next();
  }
  if (!it->Valid() || it->key() != rocksdb::Slice(key)) {
    if (!it->status().ok()) return it->status().ToString();
    // Resynchronise the level's iterator for the next node.
    it.reset();
    return absl::StrCat("Merkle node (", level, ", ", index, ") is missing");
  }
  if (it->value() != rocksdb::Slice(hash)) {
    return absl::StrCat("Merkle node (", level, ", ", index,
                        ") differs from the hash recomputed from the log");
  }
  return std::nullopt;
}

std::optional<std::string> TreeCheck::Add(const StoredEvent& e) {
  const bool compare = present_;
  if (compare && frontier_.size() >= stored_size_) {
    return absl::StrCat("the Merkle tree covers ", stored_size_,
                        " events; event ", e.position(), " is not in it");
  }
  std::optional<std::string> bad;
  frontier_.Append(RecordLeafHash(e),
                   [&](int level, uint64_t index, const std::string& hash) {
                     if (compare && !bad.has_value()) {
                       bad = Compare(level, index, hash);
                     }
                   });
  return bad;
}

std::optional<std::string> TreeCheck::Finish(uint64_t head_position) const {
  if (!present_ || stored_size_ == head_position) return std::nullopt;
  return absl::StrCat("the Merkle tree covers ", stored_size_,
                      " events but the log ends at ", head_position);
}

}  // namespace partnerledger::store
