// Every limit of the ledger in one place, each with why it is what it is.
// Limits are part of the contract: requests beyond them are rejected with
// INVALID_ARGUMENT (request shape) or RESOURCE_EXHAUSTED (load). The one
// exception is a read page: a larger max_count is capped at kReadPageMax, a
// page is cut at kReadPageBytesMax, and the response says where the next
// page starts, as paging always does.
#ifndef PARTNERLEDGER_LIMITS_H_
#define PARTNERLEDGER_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace partnerledger::limits {

// |amount_minor| of any single amount (DESIGN §1). 10^15 minor units keeps
// every sum of up to 9000 such amounts inside int64, and the product
// amount x 10000 bp inside int64 too (10^19 > 9.2e18 would not, see
// commission math which widens to 128 bits).
inline constexpr int64_t kAmountMinorMax = 1'000'000'000'000'000;

// Events one AppendEvents request may carry. A request is one atomic unit
// validated and written in one commit group.
inline constexpr size_t kAppendEventsMax = 1000;

// Serialized payload bytes of one event.
inline constexpr size_t kEventPayloadBytesMax = 64 * 1024;

// Total payload bytes of one AppendEvents request.
inline constexpr size_t kAppendBytesMax = 4 * 1024 * 1024;

// The gRPC maximum message size: an append at its byte limit plus envelope
// overhead fits, and so does a full read page.
inline constexpr size_t kGrpcMessageBytesMax = 16 * 1024 * 1024;

// Appends waiting for the writer. Beyond it, RESOURCE_EXHAUSTED: the writer
// is saturated and queueing more only adds latency.
inline constexpr size_t kWriterQueueMax = 4096;

// Requests the writer takes into one commit group (one WriteBatch, one
// fsync), and the events in it. Bounds the batch's memory and the latency of
// the group's first request.
inline constexpr size_t kCommitGroupRequestsMax = 1024;
inline constexpr size_t kCommitGroupEventsMax = 20'000;

// Events per read page.
inline constexpr uint32_t kReadPageDefault = 100;
inline constexpr uint32_t kReadPageMax = 1000;

// Record bytes per read page (ReadStream, ReadAll, a subscriber's buffer):
// a page is cut before the event that would take it past this, with a
// continuation, so a page of large events stays far below
// kGrpcMessageBytesMax and below the 4 MiB that gRPC clients accept by
// default. A page always holds at least one event (an event is at most
// kEventPayloadBytesMax plus its envelope).
inline constexpr size_t kReadPageBytesMax = 2 * 1024 * 1024;

// Bytes of read responses in flight across the server (unary pages until
// sent, subscribers' buffers). Each event counts twice its record size: the
// response message and its serialized copy. A read that cannot reserve its
// first event is RESOURCE_EXHAUSTED with a retry hint; one that runs out
// part way returns a shorter page.
inline constexpr size_t kReadBytesInFlightMax = 128 * 1024 * 1024;

// After a spike of read responses (this many bytes released since the last
// time), free memory is handed back to the operating system (malloc_trim)
// once no read response is in flight.
inline constexpr size_t kReadBytesTrimAfter = 64 * 1024 * 1024;

// Longest error message sent to a client; a longer one is cut (at a UTF-8
// boundary) and says how long it was. Values echoed in messages are cut to
// kEchoBytesMax first, so a hostile 8 KB name never fills error metadata.
inline constexpr size_t kErrorMessageBytesMax = 1024;
inline constexpr size_t kEchoBytesMax = 64;

// Events a filtered ReadAll examines per call before returning a short page
// with next_position, so a sparse filter cannot pin a server thread.
inline constexpr uint32_t kFilterScanMax = 10'000;

// A subscriber holds at most one page of events in memory; it is fed from
// storage, so a slow subscriber costs this much and no more.
inline constexpr uint32_t kSubscriptionPageEvents = 256;
// Default examined-but-unmatched events between checkpoints of a filtered
// subscription.
inline constexpr uint32_t kCheckpointIntervalDefault = 1000;
// Concurrent subscriptions per server.
inline constexpr size_t kSubscribersMax = 1024;

// A read with a min_position beyond the applied head waits for it (replication
// lag) until the call's deadline, at most this long; then UNAVAILABLE. The
// server answers up to kMinPositionReplyMarginMs (at most a quarter of the
// wait) before the call's deadline, so the client gets UNAVAILABLE with the
// applied position rather than DEADLINE_EXCEEDED. Reads waiting at once per
// ledger (each costs one map entry); beyond it RESOURCE_EXHAUSTED.
inline constexpr int64_t kMinPositionWaitMsMax = 10'000;
inline constexpr int64_t kMinPositionReplyMarginMs = 100;
inline constexpr size_t kPositionWaitersMax = 16 * 1024;

// The admin HTTP port (/metrics, /healthz): connections served at once (one
// worker thread each) and how long a connection may stay silent (while
// sending its request, or idle between keep-alive requests) before it is
// closed. Probes answer at once while fewer than kAdminHttpWorkers clients
// are slow; a silent client frees its worker within the timeout.
inline constexpr size_t kAdminHttpWorkers = 16;
inline constexpr int kAdminHttpIdleTimeoutMs = 1000;

// Reads that touch storage (ReadStream, ReadAll, GetDigest, VerifyChain,
// the queries) run on a pool of worker threads per gRPC service, never on
// gRPC's callback threads; at most kReadQueueMax wait for a worker, more
// are refused RESOURCE_EXHAUSTED at once.
inline constexpr size_t kReadWorkers = 4;
inline constexpr size_t kReadQueueMax = 1024;
// Positions one VerifyChain call checks at most (about a second of one
// worker's time); longer ranges are verified in chunks (ledgerctl verify
// asks 100,000 at a time).
inline constexpr uint64_t kVerifyChainPositionsMax = 1'000'000;

// The HTTP/JSON API and console (--http_listen). Connections are served by a
// fixed pool of worker threads, one connection per worker while it is open;
// accepted connections beyond that wait in a bounded queue, and when the
// queue is full the listener stops accepting (the kernel's backlog holds the
// rest), so a flood of clients costs bounded threads, memory and sockets. A
// connection silent for kHttpIdleTimeoutMs (while sending its request, or
// idle between keep-alive requests) is closed; a call that takes longer than
// kHttpCallTimeoutMs is DEADLINE_EXCEEDED (504). Request bodies beyond
// kHttpBodyBytesMax are refused (413) before they are read: a maximal append
// in JSON (base64 and field names included) fits.
inline constexpr size_t kHttpWorkers = 16;
inline constexpr size_t kHttpQueuedConnectionsMax = 64;
inline constexpr int kHttpIdleTimeoutMs = 5000;
inline constexpr int kHttpCallTimeoutMs = 30000;
inline constexpr size_t kHttpBodyBytesMax = 12u << 20;
// A request line's query string: at most this many parameters.
inline constexpr size_t kHttpQueryParamsMax = 64;

// Merkle nodes a server keeps in memory for proofs and the root hashes
// of query answers (a complete subtree never changes once written, so a
// cached node is never stale). Only levels >= kMerkleCachedLevelMin (each
// node covers 64 events or more): every proof at any size reads the same
// upper levels, and at 10M events they are 156k nodes. Beyond the entry
// limit the cache starts over. About 80 bytes per entry: 10 MiB at most.
inline constexpr size_t kMerkleNodeCacheEntriesMax = 128 * 1024;
inline constexpr int kMerkleCachedLevelMin = 6;

// Identifier lengths (partner, deal, agreement, ... ids; stream names).
inline constexpr size_t kIdBytesMax = 64;
inline constexpr size_t kStreamNameBytesMax = 128;
// Free text (names, pitch, summaries, references).
inline constexpr size_t kTextBytesMax = 4096;
inline constexpr size_t kSpecialtiesMax = 64;
inline constexpr size_t kMarginBandsMax = 32;
// An agreement's payment terms: at most ten years of days.
inline constexpr int32_t kPaymentTermsDaysMax = 3650;

static_assert(kAppendEventsMax * 1 <= kCommitGroupEventsMax,
              "a maximal request must fit one commit group");
static_assert(kAppendBytesMax < kGrpcMessageBytesMax,
              "a maximal append must fit one gRPC message");
static_assert(kEventPayloadBytesMax <= kAppendBytesMax);
static_assert(kReadPageDefault <= kReadPageMax);
static_assert(kReadPageBytesMax * 2 <= kGrpcMessageBytesMax,
              "a full page fits a gRPC message with room for its envelope");
static_assert(kReadPageBytesMax >= kEventPayloadBytesMax * 4,
              "a page holds several of the largest events");
static_assert(kReadBytesInFlightMax >= kReadPageBytesMax * 2 * 16,
              "the server budget serves many full pages at once");
static_assert(kHttpBodyBytesMax < kGrpcMessageBytesMax,
              "a decoded HTTP body always fits a gRPC message");
static_assert(kHttpBodyBytesMax > kAppendBytesMax * 2,
              "a maximal append fits an HTTP body in JSON");
static_assert(kStreamNameBytesMax > kIdBytesMax + 16,
              "a stream name is a category prefix plus an id");

// Replication on etcd: the largest request (one commit group's record and
// the new head in one transaction) the commit log sends. etcd refuses
// larger requests than its --max-request-bytes (default 1.5 MiB), so every
// member must run with --max-request-bytes of at least this. A group is one
// atomic transaction, never split: the writer caps a group before deciding
// it (kCommitGroupLogBytesMax), and the commit log still refuses a larger
// record (RESOURCE_EXHAUSTED) as a last check.
inline constexpr size_t kEtcdRequestBytesMax = 32 * 1024 * 1024;
// What the etcd client's gRPC messages may carry beyond the request.
inline constexpr size_t kEtcdRequestOverheadBytes = 1024 * 1024;
// Room in one transaction beyond the group's events: keys, compares, the
// head record, the group's head and the Merkle nodes on its right edge.
inline constexpr size_t kEtcdTxnOverheadBytesMax = 64 * 1024;
// How the writer estimates (from above) the bytes an append adds to its
// group's record before deciding it: per event, kCommitLogPayloadCopies
// times its payload, stream and ids (the event record, the projection
// state and its as-of history) plus kCommitLogEventOverheadBytes (hashes,
// indexes, the event-id entry, Merkle nodes, keys).
inline constexpr size_t kCommitLogPayloadCopies = 3;
inline constexpr size_t kCommitLogEventOverheadBytes = 2048;
// With a commit log, the writer closes a group before its estimated record
// passes this (Options::commit_group_log_bytes_max may lower it).
inline constexpr size_t kCommitGroupLogBytesMax =
    kEtcdRequestBytesMax - kEtcdTxnOverheadBytesMax;
static_assert(kAppendBytesMax * kCommitLogPayloadCopies +
                      kAppendEventsMax *
                          (kCommitLogEventOverheadBytes +
                           kCommitLogPayloadCopies *
                               (kStreamNameBytesMax + kIdBytesMax * 4)) <=
                  kCommitGroupLogBytesMax,
              "the largest valid append fits one group's etcd transaction");

// Retention of the etcd log (README, Replication): the leader deletes the
// groups every live node applied (and the last verified backup covers)
// this often, keeping kEtcdRetainPositionsDefault positions behind the
// head by default so a node that restarts within them catches up from
// etcd without a restore.
inline constexpr int64_t kEtcdRetentionIntervalMsDefault = 30'000;
inline constexpr uint64_t kEtcdRetainPositionsDefault = 100'000;

}  // namespace partnerledger::limits

#endif  // PARTNERLEDGER_LIMITS_H_
